"""Audio through the ingest path: synchronous transcriber (local) and asynchronous Amazon
Transcribe jobs resumed by the recorded EventBridge completion event (moto + fakes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fakes import FakeChatModel, FakeEmbedder, FakeVectorIndex
from media_fakes import FakeOcr, FakeTranscriber, FakeTranscriptionJobs, png, wav
from noticebot.bootstrap_local import bootstrap_local
from noticebot.config import Settings
from noticebot.domain.models import DocumentStatus, Principal
from noticebot.handlers import ingest, transcription
from noticebot.ingestion.engines import Engines
from noticebot.ports.transcriber import TranscriptSegment
from test_ingest_handler import sqs_event_for

FIXTURES = Path(__file__).parents[2] / "fixtures"
EDITOR = Principal("maria", "riverside", is_editor=True)
BUCKET = "noticebot-docs"


def completion_event(job_name: str, failed: bool = False) -> dict:
    name = "eventbridge_transcribe_job_failed.json" if failed else \
        "eventbridge_transcribe_job_completed.json"
    text = (FIXTURES / "events" / name).read_text().replace("JOB_NAME_PLACEHOLDER", job_name)
    return json.loads(text)


@pytest.fixture
def container(tmp_path):
    c = bootstrap_local(Settings(data_dir=tmp_path), embedder=FakeEmbedder(),
                        chat_model=FakeChatModel(), index=FakeVectorIndex(),
                        engines=Engines(ocr=FakeOcr(), transcriber=FakeTranscriber()))
    c.blobs.on_object_created = None  # the tests deliver the events themselves
    return c


def _chunks(container, document_id):
    space = container.index._chunks.get("riverside", {})
    return sorted((c for c in space.values() if c.document_id == document_id),
                  key=lambda c: c.ordinal)


def test_local_transcriber_indexes_audio_with_time_ranges(container):
    doc, _ = container.documents.upload(EDITOR, "committee.wav", wav())
    assert ingest.handle(sqs_event_for(doc.blob_key), container) == {"batchItemFailures": []}
    stored = container.metadata.get_document("riverside", doc.document_id)
    assert stored.status == DocumentStatus.INDEXED and stored.chunk_count == 2
    chunks = _chunks(container, doc.document_id)
    assert [c.metadata["location"] for c in chunks] == ["00:00:00-00:00:05", "00:01:05-00:01:33"]
    assert chunks[0].metadata["kind"] == "audio" and chunks[0].page is None


def test_local_ocr_indexes_an_image(container):
    doc, _ = container.documents.upload(EDITOR, "poster.png", png())
    ingest.handle(sqs_event_for(doc.blob_key), container)
    stored = container.metadata.get_document("riverside", doc.document_id)
    assert stored.status == DocumentStatus.INDEXED
    assert _chunks(container, doc.document_id)[0].text == "Notice text of page 1"
    assert "location" not in _chunks(container, doc.document_id)[0].metadata


def test_async_job_keeps_the_document_processing_until_its_event(container):
    jobs = FakeTranscriptionJobs()
    container.ingest.transcription_jobs = jobs
    doc, _ = container.documents.upload(EDITOR, "memo.mp3", wav())
    assert ingest.handle(sqs_event_for(doc.blob_key), container) == {"batchItemFailures": []}
    name = f"noticebot-{doc.document_id}"
    assert jobs.started == [name]
    assert container.metadata.get_document("riverside", doc.document_id).status == \
        DocumentStatus.PROCESSING
    assert container.ingest.engines.transcriber.calls == []  # the local engine is not used

    # an early or unrelated event changes nothing
    assert transcription.handle({"source": "aws.s3"}, container) == {"status": "ignored"}
    assert transcription.handle(completion_event("other-app-job"), container)["status"] == "ignored"
    assert transcription.handle(completion_event(name), container)["status"] == "ignored"  # running

    jobs.finish(name, [TranscriptSegment(0.3, 7.4, "Ask not what your country can do for you.")])
    assert transcription.handle(completion_event(name), container) == {"job": name,
                                                                   "status": "indexed"}
    chunks = _chunks(container, doc.document_id)
    assert [c.metadata["location"] for c in chunks] == ["00:00:00-00:00:08"]
    # a duplicate event is harmless
    assert transcription.handle(completion_event(name), container)["status"] == "indexed"
    assert len(_chunks(container, doc.document_id)) == 1


def test_failed_job_fails_the_document_with_its_reason(container):
    jobs = FakeTranscriptionJobs()
    container.ingest.transcription_jobs = jobs
    doc, _ = container.documents.upload(EDITOR, "memo.flac", wav())
    ingest.handle(sqs_event_for(doc.blob_key), container)
    name = f"noticebot-{doc.document_id}"
    jobs.finish(name, failure="The media format provided does not match the detected format.")
    assert transcription.handle(completion_event(name, failed=True), container)["status"] == "failed"
    stored = container.metadata.get_document("riverside", doc.document_id)
    assert stored.status == DocumentStatus.FAILED
    assert stored.error.startswith("speech transcription failed: The media format")


def test_silent_recording_fails_as_no_speech(container):
    jobs = FakeTranscriptionJobs()
    container.ingest.transcription_jobs = jobs
    doc, _ = container.documents.upload(EDITOR, "silence.wav", wav())
    ingest.handle(sqs_event_for(doc.blob_key), container)
    jobs.finish(f"noticebot-{doc.document_id}", [])
    transcription.handle(completion_event(f"noticebot-{doc.document_id}"), container)
    stored = container.metadata.get_document("riverside", doc.document_id)
    assert stored.status == DocumentStatus.FAILED and stored.error == "no speech found in the recording"


def test_redelivered_upload_after_the_job_finished_resumes_at_once(container):
    jobs = FakeTranscriptionJobs()
    container.ingest.transcription_jobs = jobs
    doc, _ = container.documents.upload(EDITOR, "memo.wav", wav())
    ingest.handle(sqs_event_for(doc.blob_key), container)
    jobs.finish(f"noticebot-{doc.document_id}", [TranscriptSegment(0, 3, "Hello board.")])
    ingest.handle(sqs_event_for(doc.blob_key), container)  # the event was lost; S3's is redelivered
    assert container.metadata.get_document("riverside", doc.document_id).status == \
        DocumentStatus.INDEXED


def test_event_for_a_deleted_document_is_ignored(container):
    jobs = FakeTranscriptionJobs()
    container.ingest.transcription_jobs = jobs
    doc, _ = container.documents.upload(EDITOR, "memo.wav", wav())
    ingest.handle(sqs_event_for(doc.blob_key), container)
    container.documents.delete(EDITOR, doc.document_id)
    jobs.finish(f"noticebot-{doc.document_id}", [TranscriptSegment(0, 3, "Hello board.")])
    result = transcription.handle(completion_event(f"noticebot-{doc.document_id}"), container)
    assert result["status"] == "ignored" and container.index.count("riverside") == 0


def test_amazon_transcribe_round_trip_with_moto(container):
    """The real TranscribeJobs adapter on moto: upload -> job started (document processing) ->
    the recorded transcript lands at the output key -> the recorded EventBridge event resumes
    ingestion -> chunks cited by time range."""
    boto3 = pytest.importorskip("boto3")
    moto = pytest.importorskip("moto")
    from noticebot.adapters.aws.transcribe import TranscribeJobs

    with moto.mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        client = boto3.client("transcribe", region_name="us-east-1")
        jobs = TranscribeJobs(client, s3=s3, bucket=BUCKET)
        container.ingest.transcription_jobs = jobs
        doc, _ = container.documents.upload(EDITOR, "jfk.wav", wav())
        ingest.handle(sqs_event_for(doc.blob_key), container)
        name = jobs.job_name(doc.document_id)
        job = client.get_transcription_job(TranscriptionJobName=name)["TranscriptionJob"]
        assert job["Media"]["MediaFileUri"] == f"s3://{BUCKET}/{doc.blob_key}"
        assert container.metadata.get_document("riverside", doc.document_id).status == \
            DocumentStatus.PROCESSING
        client.get_transcription_job(TranscriptionJobName=name)  # moto: -> IN_PROGRESS
        recorded = (FIXTURES / "transcribe" / "transcript_audio_segments.json").read_text()
        s3.put_object(Bucket=BUCKET, Key=jobs.output_key(name),
                      Body=recorded.replace("JOB_NAME_PLACEHOLDER", name))
        result = transcription.handle(completion_event(name), container)  # moto: -> COMPLETED
    assert result == {"job": name, "status": "indexed"}
    chunks = _chunks(container, doc.document_id)
    assert len(chunks) == 1 and chunks[0].metadata["location"] == "00:00:00-00:00:11"
    assert "ask not what your country can do for you" in chunks[0].text.lower()
