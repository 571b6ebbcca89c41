import json
from pathlib import Path
from urllib.parse import quote_plus

import pytest

from fakes import FakeChatModel, FakeEmbedder, FakeVectorIndex
from noticebot.bootstrap import bootstrap
from noticebot.config import Settings
from noticebot.domain.models import DocumentStatus, Principal
from noticebot.handlers import ingest
from noticebot.handlers.runtime import use_container

EVENTS = Path(__file__).parents[2] / "fixtures" / "events"
EDITOR = Principal("maria", "riverside", is_editor=True)


@pytest.fixture
def container(tmp_path):
    c = bootstrap(Settings(data_dir=tmp_path), embedder=FakeEmbedder(),
                  chat_model=FakeChatModel(), index=FakeVectorIndex())
    c.blobs.on_object_created = None  # this test delivers the events itself
    use_container(c)
    yield c
    use_container(None)


def sqs_event_for(*keys: str) -> dict:
    template = json.loads((EVENTS / "sqs_s3_object_created.json").read_text())
    record = template["Records"][0]
    records = []
    for n, key in enumerate(keys):
        r = json.loads(json.dumps(record))
        r["messageId"] = f"msg-{n}"
        r["body"] = r["body"].replace("KEY_PLACEHOLDER", quote_plus(key, safe="/"))
        records.append(r)
    return {"Records": records}


def test_recorded_s3_event_indexes_the_document(container):
    doc, _ = container.documents.upload(EDITOR, "club rules+v2.txt", b"Members must wear helmets.")
    result = ingest.handler(sqs_event_for(doc.blob_key), None)
    assert result == {"batchItemFailures": []}
    stored = container.metadata.get_document("riverside", doc.document_id)
    assert stored.status == DocumentStatus.INDEXED and stored.chunk_count == 1


def test_s3_test_event_is_skipped(container):
    event = json.loads((EVENTS / "sqs_s3_test_event.json").read_text())
    assert ingest.handler(event, None) == {"batchItemFailures": []}


def test_redelivery_is_idempotent(container):
    doc, _ = container.documents.upload(EDITOR, "a.txt", b"Alpha beta gamma. " * 50)
    ingest.handler(sqs_event_for(doc.blob_key), None)
    count = container.index.count("riverside")
    ingest.handler(sqs_event_for(doc.blob_key, doc.blob_key), None)
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
    result = ingest.handler(sqs_event_for(good.blob_key, bad.blob_key), None)
    assert result == {"batchItemFailures": [{"itemIdentifier": "msg-1"}]}
    assert container.metadata.get_document("riverside", good.document_id).status == DocumentStatus.INDEXED
    failed = container.metadata.get_document("riverside", bad.document_id)
    assert failed.status == DocumentStatus.FAILED and "try again" in failed.error
    assert container.index.count("riverside") == 1  # nothing half-indexed


def test_unparseable_file_fails_without_retry(container):
    doc, _ = container.documents.upload(EDITOR, "empty.txt", b"")
    result = ingest.handler(sqs_event_for(doc.blob_key), None)
    assert result == {"batchItemFailures": []}  # a bad file is not retried forever
    stored = container.metadata.get_document("riverside", doc.document_id)
    assert stored.status == DocumentStatus.FAILED and "empty" in stored.error


def test_event_for_a_deleted_document_is_ignored(container):
    doc, _ = container.documents.upload(EDITOR, "a.txt", b"Some text.")
    container.documents.delete(EDITOR, doc.document_id)
    assert ingest.handler(sqs_event_for(doc.blob_key), None) == {"batchItemFailures": []}
    assert container.index.count("riverside") == 0
