"""Which events reach ingestion, and which Transcribe jobs are this stage's.

On AWS an upload arrives on the queue as an EventBridge "Object Created" event, selected by
the stage's rule (uploads only: tenants/*/raw/*); locally the blob folder emits S3
notification records. The ingest handler reads both. Transcribe jobs are named after the
stage's bucket, so a stage's rule, grant and handler never act on another stage's jobs."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber

from noticebot.adapters.aws.transcribe import TranscribeJobs
from noticebot.domain.keys import UPLOAD_KEYS, transcription_job_prefix
from noticebot.handlers import ingest, transcription

BUCKET = "noticebot-dev-data-123456789012-us-east-1"


def eventbridge_object_created(key: str, bucket: str = BUCKET) -> dict:
    """The event S3 sends to EventBridge (as the rule's SQS target delivers it)."""
    return {"version": "0", "id": "c9888434-815d-c6f4-9fc2-4dd7bdeccaaf",
            "detail-type": "Object Created", "source": "aws.s3", "account": "123456789012",
            "time": "2026-12-01T10:00:00Z", "region": "us-east-1",
            "resources": [f"arn:aws:s3:::{bucket}"],
            "detail": {"version": "0", "bucket": {"name": bucket},
                       "object": {"key": key, "size": 1024, "etag": "e", "sequencer": "1"},
                       "request-id": "R", "requester": "123456789012",
                       "reason": "PutObject"}}


def test_an_eventbridge_upload_event_yields_its_key_as_it_is():
    key = "tenants/ws1/raw/doc-1/Minutes 12:03 (final)+v2.pdf"
    assert ingest.object_keys(eventbridge_object_created(key)) == [key]


def test_s3_notification_records_are_still_read_and_url_decoded():
    record = {"Records": [{"eventName": "ObjectCreated:Put", "s3": {"object": {
        "key": "tenants/ws1/raw/doc-1/Minutes+12%3A03.pdf"}}}]}
    assert ingest.object_keys(record) == ["tenants/ws1/raw/doc-1/Minutes 12:03.pdf"]
    assert ingest.object_keys({"Event": "s3:TestEvent"}) == []


def test_other_s3_events_yield_nothing():
    event = eventbridge_object_created("tenants/ws1/raw/doc-1/a.pdf")
    event["detail-type"] = "Object Deleted"
    assert ingest.object_keys(event) == []


class Recorder:
    def __init__(self):
        self.keys = []

    def ingest_object(self, key, delivery):
        self.keys.append((key, delivery.receive_count))


class Container:
    def __init__(self):
        self.ingest = Recorder()


def test_the_handler_ingests_an_eventbridge_delivery_from_sqs():
    body = json.dumps(eventbridge_object_created("tenants/ws1/raw/doc-1/a b.pdf"))
    event = {"Records": [{"messageId": "m1", "receiptHandle": "r", "body": body,
                          "attributes": {"ApproximateReceiveCount": "2"},
                          "messageAttributes": {}, "md5OfBody": "x", "eventSource": "aws:sqs",
                          "eventSourceARN": "arn:aws:sqs:us-east-1:1:q", "awsRegion": "us-east-1"}]}
    container = Container()
    assert ingest.handle(event, container) == {"batchItemFailures": []}
    assert container.ingest.keys == [("tenants/ws1/raw/doc-1/a b.pdf", 2)]


def test_the_upload_pattern_is_the_grants_pattern():
    assert UPLOAD_KEYS == "tenants/*/raw/*"


# ---- Transcribe: one prefix per stage, from its bucket -----------------------------------------
def test_jobs_are_named_after_the_stages_bucket_with_a_request_the_model_accepts():
    client = boto3.client("transcribe", region_name="us-east-1")
    jobs = TranscribeJobs(client, s3=None, bucket=BUCKET)
    name = f"{BUCKET}-tx-doc-1"
    with Stubber(client) as stub:
        stub.add_response("start_transcription_job", {"TranscriptionJob": {
            "TranscriptionJobName": name, "TranscriptionJobStatus": "QUEUED"}}, {
            "TranscriptionJobName": name,
            "Media": {"MediaFileUri": f"s3://{BUCKET}/tenants/ws1/raw/doc-1/memo.m4a"},
            "OutputBucketName": BUCKET, "OutputKey": f"transcripts/{name}.json",
            "LanguageCode": "en-US", "MediaFormat": "m4a"})
        job = jobs.start("tenants/ws1/raw/doc-1/memo.m4a", "doc-1", "memo.m4a")
    assert job.name == name and name.startswith(transcription_job_prefix(BUCKET))
    assert len(name) <= 200


@pytest.mark.parametrize("job, handled", [
    (f"{BUCKET}-tx-doc-1", True),
    ("noticebot-prod-data-123456789012-us-east-1-tx-doc-1", False),  # the other stage's
    ("noticebot-doc-1", False),  # the old, shared prefix
])
def test_the_transcription_handler_resumes_this_stages_jobs_only(job, handled):
    resumed = []

    class Ingest:
        transcription_jobs = TranscribeJobs(None, s3=None, bucket=BUCKET)

        def resume_transcription(self, name):
            resumed.append(name)
            return None

    class C:
        ingest = Ingest()

        class settings:
            bucket = BUCKET

    event = {"source": "aws.transcribe", "detail-type": "Transcribe Job State Change",
             "detail": {"TranscriptionJobName": job, "TranscriptionJobStatus": "COMPLETED"}}
    transcription.handle(event, C())
    assert resumed == ([job] if handled else [])


def test_a_container_without_transcribe_jobs_falls_back_to_the_buckets_prefix():
    class C:
        class ingest:
            transcription_jobs = None

            @staticmethod
            def resume_transcription(name):
                return None

        class settings:
            bucket = BUCKET

    assert transcription._ours(f"{BUCKET}-tx-x", C()) is True
    assert transcription._ours("noticebot-x", C()) is False
