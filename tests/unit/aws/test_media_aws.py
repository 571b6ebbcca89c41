"""Textract (OCR) and Transcribe (speech to text) adapters against moto and recorded responses.

moto covers Transcribe's jobs (start / get / conflict) and S3, and Textract's calls with
whatever blocks the test gives its backend; hand-written fake clients replay the recorded
responses where moto has no behaviour (pagination, IN_PROGRESS polling, failures, errors).
The response and transcript JSON files are written in the documented shapes of those APIs;
they were not captured from a real AWS account (none is reachable from here).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from media_fakes import png
from noticebot.adapters.aws.textract_ocr import TextractOcr, pages_from_blocks
from noticebot.adapters.aws.transcribe import (
    TranscribeJobs,
    key_of_uri,
    parse_job_state_change,
    parse_transcript,
)
from noticebot.domain.errors import UnreadableDocument
from noticebot.ingestion import parse_document
from noticebot.ingestion.engines import Engines

FIXTURES = Path(__file__).parents[2] / "fixtures"
REGION = "us-east-1"
BUCKET = "noticebot-docs"


def _fixture(*parts: str):
    return json.loads(FIXTURES.joinpath(*parts).read_text())


class RecordedTextract:
    """A Textract client replaying recorded responses (moto has no pagination or polling)."""

    def __init__(self, detect=None, pages=None, in_progress: int = 0, error: str | None = None,
                 failed: str | None = None):
        self.detect = detect
        self.pages = pages or []
        self.in_progress = in_progress
        self.error = error
        self.failed = failed
        self.calls: list[tuple[str, dict]] = []

    def _raise(self, operation: str):
        if self.error:
            raise ClientError({"Error": {"Code": self.error, "Message": "recorded error"}},
                              operation)

    def detect_document_text(self, **kwargs):
        self.calls.append(("detect_document_text", kwargs))
        self._raise("DetectDocumentText")
        return copy.deepcopy(self.detect)

    def start_document_text_detection(self, **kwargs):
        self.calls.append(("start_document_text_detection", kwargs))
        self._raise("StartDocumentTextDetection")
        return {"JobId": "job-1"}

    def get_document_text_detection(self, **kwargs):
        self.calls.append(("get_document_text_detection", kwargs))
        if self.in_progress:
            self.in_progress -= 1
            return {"JobStatus": "IN_PROGRESS"}
        if self.failed:
            return {"JobStatus": "FAILED", "StatusMessage": self.failed}
        index = 1 if kwargs.get("NextToken") else 0
        return copy.deepcopy(self.pages[index])


# -- Textract -------------------------------------------------------------------------------
def test_detect_document_text_lines_and_confidence() -> None:
    client = RecordedTextract(detect=_fixture("textract", "detect_document_text.json"))
    page = TextractOcr(client).recognize(png(), page=4)
    assert page.text == "Riverside Allotments\nWater is off on 3 June" and page.page == 4
    assert page.confidence == pytest.approx((99.61 * 20 + 97.20 * 22) / 42)
    assert client.calls[0][1]["Document"]["Bytes"].startswith(b"\x89PNG")


def test_image_upload_through_textract() -> None:
    client = RecordedTextract(detect=_fixture("textract", "detect_document_text.json"))
    doc = parse_document(png(), "notice.png", engines=Engines(ocr=TextractOcr(client)))
    assert "Water is off on 3 June" in doc.text


def test_textract_document_errors_fail_the_document_others_propagate() -> None:
    bad = TextractOcr(RecordedTextract(error="UnsupportedDocumentException"))
    with pytest.raises(UnreadableDocument, match=r"^OCR could not read this file \(Textract"):
        parse_document(png(), "a.png", engines=Engines(ocr=bad))
    throttled = TextractOcr(RecordedTextract(error="ProvisionedThroughputExceededException"))
    with pytest.raises(ClientError):
        throttled.recognize(png())


def test_large_page_images_are_reencoded_under_the_request_limit(monkeypatch) -> None:
    import noticebot.adapters.aws.textract_ocr as textract

    monkeypatch.setattr(textract, "MAX_SYNC_BYTES", 20_000)
    client = RecordedTextract(detect={"Blocks": []})
    data = png(800, 600)
    TextractOcr(client).recognize(data + b"\x00" * 30_000)
    sent = client.calls[0][1]["Document"]["Bytes"]
    assert len(sent) <= 20_000 and sent.startswith(b"\xff\xd8")  # JPEG


def test_pages_from_blocks_groups_lines_by_page() -> None:
    recorded = _fixture("textract", "get_document_text_detection_pages.json")
    pages = pages_from_blocks(recorded[0]["Blocks"] + recorded[1]["Blocks"])
    assert pages[2].text == "Treasurer's report\nBalance: 1,204.50"
    assert sorted(pages) == [1, 2, 3]


def test_multi_page_pdf_job_polls_follows_pages_and_cleans_up(s3) -> None:
    recorded = _fixture("textract", "get_document_text_detection_pages.json")
    client = RecordedTextract(pages=recorded, in_progress=2)
    sleeps: list[float] = []
    ocr = TextractOcr(client, s3=s3, bucket=BUCKET, poll_seconds=0.5, sleep=sleeps.append)
    pages = ocr.recognize_pdf(b"%PDF-1.4 scanned", [2, 3])
    assert sorted(pages) == [2, 3] and pages[2].text.endswith("Balance: 1,204.50")
    assert sleeps == [0.5, 0.5]
    start = [c for c in client.calls if c[0] == "start_document_text_detection"][0][1]
    staged = start["DocumentLocation"]["S3Object"]
    assert staged["Bucket"] == BUCKET and staged["Name"].startswith("textract-staging/")
    assert [c[1].get("NextToken") for c in client.calls if c[0] == "get_document_text_detection"
            ][-1] == "page-2-token"
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0  # staging copy deleted


def test_failed_or_stuck_pdf_job(s3) -> None:
    failed = TextractOcr(RecordedTextract(failed="Request has unsupported document format"),
                         s3=s3, bucket=BUCKET, sleep=lambda s: None)
    with pytest.raises(UnreadableDocument, match=r"unsupported document format"):
        failed.recognize_pdf(b"%PDF-1.4", [1])
    stuck = TextractOcr(RecordedTextract(in_progress=10**6), s3=s3, bucket=BUCKET,
                        poll_seconds=0.01, max_wait_seconds=0.05)
    with pytest.raises(TimeoutError):
        stuck.recognize_pdf(b"%PDF-1.4", [1])
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0


def test_without_a_bucket_pdfs_go_page_by_page() -> None:
    assert TextractOcr(RecordedTextract()).recognize_pdf(b"%PDF-1.4", [1]) is None


def test_scanned_pdf_through_moto_textract(s3, monkeypatch) -> None:
    """The real boto3 Textract client against moto, whose backend answers with the blocks
    the test sets: the PDF parser sends the textless pages in one asynchronous job."""
    pytest.importorskip("pypdfium2")
    from moto.textract.models import TextractBackend
    from PIL import Image

    recorded = _fixture("textract", "get_document_text_detection_pages.json")
    monkeypatch.setattr(TextractBackend, "BLOCKS", recorded[0]["Blocks"] + recorded[1]["Blocks"])
    frames = [Image.new("L", (850, 1100), 255) for _ in range(3)]
    for frame in frames:
        frame.paste(0, (100, 100, 600, 160))
    import io

    out = io.BytesIO()
    frames[0].save(out, format="PDF", save_all=True, append_images=frames[1:], resolution=100)
    textract = boto3.client("textract", region_name=REGION)
    ocr = TextractOcr(textract, s3=s3, bucket=BUCKET, sleep=lambda s: None)
    doc = parse_document(out.getvalue(), "scan.pdf", engines=Engines(ocr=ocr))
    assert [s.page for s in doc.sections] == [1, 2]  # page 3's 31% line is noise
    assert "Balance: 1,204.50" in doc.text


# -- Transcribe -----------------------------------------------------------------------------
@pytest.fixture
def transcribe(aws):
    """moto's jobs go QUEUED -> IN_PROGRESS -> COMPLETED, one step per get."""
    return boto3.client("transcribe", region_name=REGION)


KEY = "tenants/riverside/raw/doc123/voice memo.m4a"


def test_start_names_the_job_after_the_document_and_reads_the_upload_in_place(transcribe, s3):
    jobs = TranscribeJobs(transcribe, s3=s3, bucket=BUCKET)
    job = jobs.start(KEY, "doc123", "voice memo.m4a")
    # Named after the stage's bucket: its rule and grant match this stage's jobs only.
    assert job.name == f"{BUCKET}-tx-doc123" and not job.finished
    assert jobs.owns(job.name) and not jobs.owns("noticebot-other-data-1-tx-doc123")
    stored = transcribe.get_transcription_job(TranscriptionJobName=job.name)["TranscriptionJob"]
    assert stored["Media"]["MediaFileUri"] == f"s3://{BUCKET}/{KEY}"
    assert stored["MediaFormat"] == "m4a" and stored["LanguageCode"] == "en-US"


def test_redelivered_upload_adopts_the_running_job(transcribe, s3):
    jobs = TranscribeJobs(transcribe, s3=s3, bucket=BUCKET)
    first = jobs.start(KEY, "doc123", "a.mp3")
    again = jobs.start(KEY, "doc123", "a.mp3")  # ConflictException inside
    assert again.name == first.name
    listed = transcribe.list_transcription_jobs()["TranscriptionJobSummaries"]
    assert [j["TranscriptionJobName"] for j in listed] == [f"{BUCKET}-tx-doc123"]


def test_completed_job_reads_its_transcript_from_the_output_key(transcribe, s3):
    jobs = TranscribeJobs(transcribe, s3=s3, bucket=BUCKET)
    job = jobs.start(KEY, "doc123", "a.wav")
    assert [jobs.get(job.name).status for _ in range(2)] == ["QUEUED", "IN_PROGRESS"]
    s3.put_object(Bucket=BUCKET, Key=jobs.output_key(job.name),
                  Body=json.dumps(_fixture("transcribe", "transcript_audio_segments.json")))
    done = jobs.get(job.name)
    assert done.status == "COMPLETED" and done.media_key == KEY
    assert [(s.start, s.end) for s in done.transcript.segments] == [(0.32, 7.41), (8.21, 10.52)]
    assert "ask not what your country can do for you" in done.transcript.text


def test_transcript_without_audio_segments_is_split_into_sentences():
    output = _fixture("transcribe", "transcript_audio_segments.json")
    del output["results"]["audio_segments"]
    transcript = parse_transcript(output)
    assert [s.text for s in transcript.segments] == [
        "And so, my fellow Americans, ask not what your country can do for you.",
        "Ask what you can do for your country."]
    assert transcript.segments[0].start == 0.32 and transcript.segments[1].end == 10.52
    assert transcript.language == "en-US"


def test_key_of_uri():
    assert key_of_uri(f"s3://{BUCKET}/tenants/a/raw/b/c%20d.wav", BUCKET) == "tenants/a/raw/b/c d.wav"
    assert key_of_uri(f"https://s3.us-east-1.amazonaws.com/{BUCKET}/x/y.json", BUCKET) == "x/y.json"
    assert key_of_uri(f"https://{BUCKET}.s3.us-east-1.amazonaws.com/x/y.json", BUCKET) == "x/y.json"
    assert key_of_uri("s3://other-bucket/x", BUCKET) is None


def test_eventbridge_events_are_parsed():
    done = _fixture("events", "eventbridge_transcribe_job_completed.json")
    failed = _fixture("events", "eventbridge_transcribe_job_failed.json")
    assert parse_job_state_change(done).status == "COMPLETED"
    change = parse_job_state_change(failed)
    assert change.status == "FAILED" and "media format" in change.failure_reason
    assert parse_job_state_change({"source": "aws.s3", "detail-type": "Object Created"}) is None
    assert parse_job_state_change({"Records": []}) is None


def test_aws_engines_build_no_client_until_used():
    from noticebot.adapters.aws.clients import AwsClients
    from noticebot.bootstrap_aws import aws_engines

    clients = AwsClients(region=REGION)
    engines, jobs = aws_engines(clients, BUCKET)
    assert isinstance(engines.ocr, TextractOcr) and engines.transcriber is None
    assert isinstance(jobs, TranscribeJobs) and jobs.bucket == BUCKET
    assert clients.created == []
    engines, jobs = aws_engines(clients, "")
    assert jobs is None and engines.ocr.recognize_pdf(b"%PDF", [1]) is None
