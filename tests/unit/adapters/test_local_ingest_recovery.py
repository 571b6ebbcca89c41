"""The local stack as entrypoints.local_stack wires it: uploads go through the durable queue, a restart on
the same data folder resumes what a dead process held, and the worker's sweep settles
documents that have no message left."""

import json
from dataclasses import replace
from datetime import timedelta

import pytest

from fakes import FakeChatModel, FakeEmbedder, FakeVectorIndex, dead_process
from noticebot.adapters.local.sqlite_queue import SqliteQueue
from noticebot.config import Settings
from noticebot.domain.ingest_budget import UPLOAD_UNFINISHED
from noticebot.domain.models import DocumentStatus, Principal, utcnow
from noticebot.entrypoints.local_stack import local_stack

EDITOR = Principal("maria", "riverside", is_editor=True)


def start(data, index):
    """One process's container on the data folder (the worker is driven by the test)."""
    return local_stack(Settings(data_dir=data), embedder=FakeEmbedder(),
                       chat_model=FakeChatModel(), index=index)


@pytest.fixture
def index():
    return FakeVectorIndex()


def test_uploads_are_queued_durably_in_the_data_folder(tmp_path, index):
    container = start(tmp_path, index)
    container.documents.upload(EDITOR, "a.txt", b"Alpha beta.")
    again = SqliteQueue(tmp_path / "queue.sqlite3")  # what a restarted process opens
    (body,) = again.pending_bodies()
    assert json.loads(body)["Records"][0]["eventName"] == "ObjectCreated:Put"


def test_a_restart_resumes_the_document_a_dead_process_was_indexing(tmp_path, index):
    before = start(tmp_path, index)
    doc, _ = before.documents.upload(EDITOR, "a.txt", b"Alpha beta gamma.")
    # The process that received the message and began indexing is killed mid-way.
    dead = SqliteQueue(tmp_path / "queue.sqlite3", receiver=dead_process())
    (held,) = dead.receive()
    now = utcnow()
    assert before.metadata.claim_document("riverside", doc.document_id, holder=held.message_id,
                                          lease_until=now + timedelta(seconds=300), now=now)
    after = start(tmp_path, index)  # the restart, long before any timeout
    after.queue.drain()
    stored = after.metadata.get_document("riverside", doc.document_id)
    assert (stored.status, stored.attempts) == (DocumentStatus.INDEXED, 2)
    assert index.count("riverside") == stored.chunk_count
    assert after.queue.messages.pending_bodies() == []
    assert after.queue.messages.dead_letters() == []


def test_the_worker_sweep_settles_documents_without_a_message(tmp_path, index):
    container = start(tmp_path, index)
    hook, container.blobs.on_object_created = container.blobs.on_object_created, None
    lost, _ = container.documents.upload(EDITOR, "lost.txt", b"never stored")
    container.blobs.delete_prefix(lost.blob_key)  # died before the file was stored
    container.blobs.on_object_created = hook
    waiting, _ = container.documents.upload(EDITOR, "waiting.txt", b"in the queue")
    long_ago = utcnow() - timedelta(hours=1)
    for doc in (lost, waiting):
        container.metadata.put_document(replace(doc, updated_at=long_ago))
    container.queue.housekeeping()
    stored = container.metadata.get_document("riverside", lost.document_id)
    assert (stored.status, stored.error) == (DocumentStatus.FAILED, UPLOAD_UNFINISHED)
    # Its message is still queued: a delivery will come, so the sweep leaves it.
    assert container.metadata.get_document("riverside", waiting.document_id).status \
        == DocumentStatus.QUEUED
    container.queue.drain()
    assert container.metadata.get_document("riverside", waiting.document_id).status \
        == DocumentStatus.INDEXED
