"""Stuck documents: the sweep (requeue or fail), re-uploads that retry, and the read path that
fails a document whose last attempt ran out of time."""

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from fakes import FakeVectorIndex
from noticebot.adapters.local.folder_blob_store import FolderBlobStore
from noticebot.adapters.local.sqlite_metadata_store import SqliteMetadataStore
from noticebot.domain.ingest_budget import UPLOAD_UNFINISHED, IngestBudget
from noticebot.domain.models import Chunk, DocumentStatus, Principal
from noticebot.services.documents import DocumentService, UploadOutcome
from noticebot.services.stuck_documents import Settled

EDITOR = Principal("maria", "riverside", is_editor=True)
BUDGET = IngestBudget(attempt_s=300, max_attempts=3)
PAST_BUDGET = timedelta(seconds=301)


class Clock:
    def __init__(self):
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now


class Board:
    """DocumentService over the real local store and folder; object-created events recorded."""

    def __init__(self, tmp_path):
        self.events: list[str] = []
        self.clock = Clock()
        self.metadata = SqliteMetadataStore(tmp_path / "meta.db")
        self.blobs = FolderBlobStore(tmp_path / "blobs",
                                     on_object_created=lambda key, size: self.events.append(key))
        self.index = FakeVectorIndex()
        self.documents = DocumentService(self.metadata, self.blobs, self.index, 10_000,
                                         budget=BUDGET, clock=self.clock)
        self.stuck = self.documents.stuck

    def doc(self, document_id):
        return self.metadata.get_document(EDITOR.workspace_id, document_id)

    def claim(self, doc, holder="msg-1", at=None):
        at = at or self.clock.now
        assert self.metadata.claim_document(doc.workspace_id, doc.document_id, holder=holder,
                                            lease_until=BUDGET.lease_until(at), now=at)
        return self.doc(doc.document_id)

    def stranded(self, data=b"never stored", name="lost.txt"):
        """A row whose process died before the file was stored (no blob, no event)."""
        self.blobs.on_object_created, hook = None, self.blobs.on_object_created
        doc, _ = self.documents.upload(EDITOR, name, data)
        self.blobs.delete_prefix(doc.blob_key)
        self.blobs.on_object_created = hook
        return self.doc(doc.document_id)


@pytest.fixture
def board(tmp_path):
    return Board(tmp_path)


# ------------------------------------------------------------------ re-uploads
def test_reuploading_a_failed_document_retries_it_under_its_id(board):
    doc, outcome = board.documents.upload(EDITOR, "a.txt", b"alpha")
    assert outcome is UploadOutcome.CREATED
    board.claim(doc)
    board.metadata.transition_document("riverside", doc.document_id, DocumentStatus.FAILED,
                                       allowed_from=(DocumentStatus.PROCESSING,), error="boom")
    again, outcome = board.documents.upload(EDITOR, "renamed.txt", b"alpha")
    assert outcome is UploadOutcome.RETRIED and again.document_id == doc.document_id
    assert (again.status, again.attempts, again.error) == (DocumentStatus.QUEUED, 0, None)
    assert board.events == [doc.blob_key, doc.blob_key]  # the event fired again
    assert len(board.metadata.list_documents("riverside")) == 1


def test_reuploading_a_stuck_document_retries_it(board):
    doc, _ = board.documents.upload(EDITOR, "a.txt", b"alpha")
    board.claim(doc)  # that attempt died
    board.clock.now += PAST_BUDGET
    again, outcome = board.documents.upload(EDITOR, "a.txt", b"alpha")
    assert outcome is UploadOutcome.RETRIED
    assert (again.document_id, again.status, again.lease_until) == (
        doc.document_id, DocumentStatus.QUEUED, None)


def test_reuploading_restores_a_file_that_never_arrived(board):
    doc = board.stranded(b"the bytes")
    board.clock.now += PAST_BUDGET
    again, outcome = board.documents.upload(EDITOR, "lost.txt", b"the bytes")
    assert outcome is UploadOutcome.RETRIED and again.document_id == doc.document_id
    assert board.blobs.get(doc.blob_key) == b"the bytes"
    assert board.events == [doc.blob_key]


@pytest.mark.parametrize("state", ["queued", "processing", "indexed"])
def test_reuploading_a_healthy_document_is_a_duplicate(board, state):
    doc, _ = board.documents.upload(EDITOR, "a.txt", b"alpha")
    if state != "queued":
        doc = board.claim(doc)
    if state == "indexed":
        board.metadata.transition_document("riverside", doc.document_id, DocumentStatus.INDEXED,
                                           allowed_from=(DocumentStatus.PROCESSING,), chunk_count=1)
    board.clock.now += timedelta(seconds=299)  # within the budget
    same, outcome = board.documents.upload(EDITOR, "a.txt", b"alpha")
    assert outcome is UploadOutcome.DUPLICATE and same.document_id == doc.document_id
    assert same.status.value == state and board.events == [doc.blob_key]


# ------------------------------------------------------------------ the sweep
def test_a_row_without_its_file_fails_with_a_reason_a_person_can_act_on(board):
    doc = board.stranded()
    assert board.stuck.settle(doc, has_message=False) is Settled.LEFT  # still within budget
    board.clock.now += PAST_BUDGET
    assert board.stuck.settle(doc, has_message=False) is Settled.FAILED
    stored = board.doc(doc.document_id)
    assert (stored.status, stored.error) == (DocumentStatus.FAILED, UPLOAD_UNFINISHED)


def test_a_dead_attempt_with_its_file_is_requeued_and_keeps_its_count(board):
    doc, _ = board.documents.upload(EDITOR, "a.txt", b"alpha")
    doc = board.claim(doc)
    board.clock.now += PAST_BUDGET
    assert board.stuck.settle(doc, has_message=False) is Settled.REQUEUED
    stored = board.doc(doc.document_id)
    assert (stored.status, stored.attempts) == (DocumentStatus.QUEUED, 1)
    assert board.events == [doc.blob_key, doc.blob_key]


def test_a_document_whose_attempts_are_used_up_fails_and_leaves_the_index(board):
    doc, _ = board.documents.upload(EDITOR, "a.txt", b"alpha")
    for n in range(3):
        doc = board.claim(doc, holder=f"msg-{n}", at=board.clock.now - PAST_BUDGET * (3 - n))
    board.index.upsert("riverside", [Chunk(f"{doc.document_id}:0", doc.document_id, 0, "alpha",
                                           vector=[1.0, 0.0])])
    assert board.stuck.settle(doc, has_message=False) is Settled.FAILED
    stored = board.doc(doc.document_id)
    assert stored.status == DocumentStatus.FAILED and "3 times" in stored.error
    assert "upload the file again" in stored.error
    assert board.index.count("riverside") == 0


def test_a_document_with_a_message_left_or_changed_since_read_is_left_alone(board):
    doc, _ = board.documents.upload(EDITOR, "a.txt", b"alpha")
    board.clock.now += PAST_BUDGET
    seen = board.doc(doc.document_id)
    assert board.stuck.settle(seen, has_message=True) is Settled.LEFT
    board.claim(seen)  # a worker picked it up after the sweep read it
    assert board.stuck.settle(seen, has_message=False) is Settled.LEFT
    assert board.doc(doc.document_id).status == DocumentStatus.PROCESSING


def test_the_sweep_counts_its_outcomes(board):
    lost = board.stranded()
    with_message, _ = board.documents.upload(EDITOR, "b.txt", b"beta")
    board.clock.now += PAST_BUDGET
    outcomes = board.stuck.sweep(board.metadata.unsettled_documents(),
                                 keys_with_messages={with_message.blob_key})
    assert outcomes == {Settled.FAILED: 1, Settled.LEFT: 1}
    assert board.doc(lost.document_id).status == DocumentStatus.FAILED
    assert board.doc(with_message.document_id).status == DocumentStatus.QUEUED


# ------------------------------------------------------------------ the read path
def test_reading_fails_a_document_whose_last_attempt_ran_out_of_time(board):
    doc, _ = board.documents.upload(EDITOR, "a.txt", b"alpha")
    for _ in range(3):  # one message, received three times; the last receive timed out
        doc = board.claim(doc, holder="msg-0")
    assert board.documents.get(EDITOR, doc.document_id).status == DocumentStatus.PROCESSING
    board.clock.now += PAST_BUDGET
    shown = board.documents.get(EDITOR, doc.document_id)
    assert shown.status == DocumentStatus.FAILED and "3 times" in shown.error
    assert [d.status for d in board.documents.list(EDITOR)] == [DocumentStatus.FAILED]


def test_reading_leaves_a_timed_out_attempt_that_will_be_retried(board):
    doc, _ = board.documents.upload(EDITOR, "a.txt", b"alpha")
    board.claim(doc)
    board.clock.now += PAST_BUDGET
    assert board.documents.get(EDITOR, doc.document_id).status == DocumentStatus.PROCESSING


def test_budget_counts_a_lease_less_processing_row_from_its_last_change():
    from contracts.metadata_store_contract import make_doc

    now = datetime(2026, 3, 1, tzinfo=timezone.utc)
    doc = replace(make_doc(status=DocumentStatus.PROCESSING), updated_at=now)
    assert not BUDGET.is_overdue(doc, now + timedelta(seconds=299))
    assert BUDGET.is_overdue(doc, now + timedelta(seconds=300))
