import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote_plus

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from fakes import FakeChatModel, FakeEmbedder, FakeVectorIndex
from noticebot.bootstrap_local import bootstrap_local
from noticebot.config import Settings
from noticebot.domain.models import DocumentStatus, Principal
from noticebot.handlers import ingest

EVENTS = Path(__file__).parents[2] / "fixtures" / "events"
EDITOR = Principal("maria", "riverside", is_editor=True)


@pytest.fixture
def container(tmp_path):
    c = bootstrap_local(Settings(data_dir=tmp_path), embedder=FakeEmbedder(),
                        chat_model=FakeChatModel(), index=FakeVectorIndex())
    c.blobs.on_object_created = None  # this test delivers the events itself
    return c


def sqs_event_for(*keys: str, receive_count: int = 1) -> dict:
    template = json.loads((EVENTS / "sqs_s3_object_created.json").read_text())
    record = template["Records"][0]
    records = []
    for n, key in enumerate(keys):
        r = json.loads(json.dumps(record))
        r["messageId"] = f"msg-{n}"
        r["attributes"]["ApproximateReceiveCount"] = str(receive_count)
        r["body"] = r["body"].replace("KEY_PLACEHOLDER", quote_plus(key, safe="/"))
        records.append(r)
    return {"Records": records}


def failed_records(event: dict, container) -> list[str]:
    """The message ids the handler reports failed; Powertools raises when all of them did."""
    try:
        result = ingest.handle(event, container)
    except BatchProcessingError:
        return [r["messageId"] for r in event["Records"]]
    return [f["itemIdentifier"] for f in result["batchItemFailures"]]


def hold(container, doc, holder: str, *, expired: bool = False) -> None:
    """Another attempt's claim on ``doc``: live, or one whose time budget has run out."""
    now = datetime.now(timezone.utc) - (timedelta(seconds=301) if expired else timedelta())
    assert container.metadata.claim_document("riverside", doc.document_id, holder=holder,
                                              lease_until=now + timedelta(seconds=300), now=now)


def test_recorded_s3_event_indexes_the_document(container):
    doc, _ = container.documents.upload(EDITOR, "club rules+v2.txt", b"Members must wear helmets.")
    result = ingest.handle(sqs_event_for(doc.blob_key), container)
    assert result == {"batchItemFailures": []}
    stored = container.metadata.get_document("riverside", doc.document_id)
    assert stored.status == DocumentStatus.INDEXED and stored.chunk_count == 1


def test_s3_test_event_is_skipped(container):
    event = json.loads((EVENTS / "sqs_s3_test_event.json").read_text())
    assert ingest.handle(event, container) == {"batchItemFailures": []}


def test_redelivery_is_idempotent(container):
    doc, _ = container.documents.upload(EDITOR, "a.txt", b"Alpha beta gamma. " * 50)
    ingest.handle(sqs_event_for(doc.blob_key), container)
    count = container.index.count("riverside")
    ingest.handle(sqs_event_for(doc.blob_key, doc.blob_key), container)
    assert container.index.count("riverside") == count
    assert container.metadata.get_document("riverside", doc.document_id).status == DocumentStatus.INDEXED


def test_one_bad_record_fails_alone(container, monkeypatch):
    good, _ = container.documents.upload(EDITOR, "good.txt", b"Good content here.")
    bad, _ = container.documents.upload(EDITOR, "bad.txt", b"Other content here.")
    real = container.ingest.embedder.embed_documents

    def flaky(texts):
        if any("Other content" in t for t in texts):
            raise ConnectionError("embedding endpoint unreachable")
        return real(texts)

    monkeypatch.setattr(container.ingest.embedder, "embed_documents", flaky)
    result = ingest.handle(sqs_event_for(good.blob_key, bad.blob_key), container)
    assert result == {"batchItemFailures": [{"itemIdentifier": "msg-1"}]}
    assert container.metadata.get_document("riverside", good.document_id).status == DocumentStatus.INDEXED
    # Not the last delivery: it stays processing for the redelivery, with nothing half-indexed.
    retrying = container.metadata.get_document("riverside", bad.document_id)
    assert retrying.status == DocumentStatus.PROCESSING and retrying.error is None
    assert container.index.count("riverside") == 1


def test_a_failure_on_the_last_delivery_fails_the_document_with_a_reason(container, monkeypatch):
    doc, _ = container.documents.upload(EDITOR, "a.txt", b"Some text.")

    def down(texts):
        raise ConnectionError("embedding endpoint unreachable")

    monkeypatch.setattr(container.ingest.embedder, "embed_documents", down)
    for receive in (1, 2):
        event = sqs_event_for(doc.blob_key, receive_count=receive)
        assert failed_records(event, container) == ["msg-0"]
        assert container.metadata.get_document("riverside", doc.document_id).status \
            == DocumentStatus.PROCESSING
    last = container.settings.ingest_max_receives
    # Still reported, so the message is dead-lettered as a record of the internal error.
    assert failed_records(sqs_event_for(doc.blob_key, receive_count=last), container) \
        == ["msg-0"]
    stored = container.metadata.get_document("riverside", doc.document_id)
    assert stored.status == DocumentStatus.FAILED and stored.attempts == 3
    assert stored.error == ("indexing failed after 3 attempts (internal error: ConnectionError); "
                            "upload the file again to retry")


def test_a_redelivered_message_takes_over_from_its_crashed_attempt(container):
    doc, _ = container.documents.upload(EDITOR, "a.txt", b"Alpha beta gamma.")
    hold(container, doc, "msg-0")  # its first receive died mid-way; the lease is still live
    assert failed_records(sqs_event_for(doc.blob_key, receive_count=2), container) == []
    stored = container.metadata.get_document("riverside", doc.document_id)
    assert (stored.status, stored.attempts) == (DocumentStatus.INDEXED, 2)


def test_another_message_waits_while_a_live_attempt_holds_the_document(container):
    doc, _ = container.documents.upload(EDITOR, "a.txt", b"Alpha beta gamma.")
    hold(container, doc, "msg-other")
    assert failed_records(sqs_event_for(doc.blob_key), container) == ["msg-0"]
    stored = container.metadata.get_document("riverside", doc.document_id)
    assert (stored.status, stored.lease_holder) == (DocumentStatus.PROCESSING, "msg-other")
    assert container.index.count("riverside") == 0
    # On its last delivery the duplicate is dropped: the holder's own message decides.
    last = container.settings.ingest_max_receives
    assert failed_records(sqs_event_for(doc.blob_key, receive_count=last), container) == []
    assert container.metadata.get_document("riverside", doc.document_id).lease_holder == "msg-other"


def test_another_message_takes_over_once_the_holders_budget_ran_out(container):
    doc, _ = container.documents.upload(EDITOR, "a.txt", b"Alpha beta gamma.")
    hold(container, doc, "msg-other", expired=True)  # that attempt timed out or crashed
    assert failed_records(sqs_event_for(doc.blob_key), container) == []
    assert container.metadata.get_document("riverside", doc.document_id).status \
        == DocumentStatus.INDEXED


def test_a_redelivery_never_reopens_a_failed_document(container):
    doc, _ = container.documents.upload(EDITOR, "empty.txt", b"")
    ingest.handle(sqs_event_for(doc.blob_key), container)
    failed = container.metadata.get_document("riverside", doc.document_id)
    assert ingest.handle(sqs_event_for(doc.blob_key), container) == {"batchItemFailures": []}
    again = container.metadata.get_document("riverside", doc.document_id)
    assert (again.status, again.attempts, again.updated_at) == (
        DocumentStatus.FAILED, failed.attempts, failed.updated_at)


def test_unparseable_file_fails_without_retry(container):
    doc, _ = container.documents.upload(EDITOR, "empty.txt", b"")
    result = ingest.handle(sqs_event_for(doc.blob_key), container)
    assert result == {"batchItemFailures": []}  # a bad file is not retried forever
    stored = container.metadata.get_document("riverside", doc.document_id)
    assert stored.status == DocumentStatus.FAILED and "empty" in stored.error


def test_event_for_a_deleted_document_is_ignored(container):
    doc, _ = container.documents.upload(EDITOR, "a.txt", b"Some text.")
    container.documents.delete(EDITOR, doc.document_id)
    assert ingest.handle(sqs_event_for(doc.blob_key), container) == {"batchItemFailures": []}
    assert container.index.count("riverside") == 0
