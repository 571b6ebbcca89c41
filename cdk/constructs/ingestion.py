"""Ingestion: an upload (S3 "Object Created" under tenants/*/raw/*) -> EventBridge -> SQS (with
a dead-letter queue) -> ingest Lambda, and Transcribe's "job state change" -> EventBridge ->
transcription Lambda for audio uploads.

Why EventBridge between S3 and the queue: S3's own notifications filter by a fixed key prefix
(and suffix) only, and the workspace comes before the kind in the key layout
(tenants/{ws}/raw/..., tenants/{ws}/datasets/..., tenants/{ws}/models/...): the only prefix
they could use, tenants/, would also wake the ingest function for every dataset file, model
artifact and spot-training checkpoint. An EventBridge rule matches the key with a wildcard
(noticebot.domain.keys.UPLOAD_KEYS, the same pattern the IAM grants use) and sends only
uploads. The bucket sends its events to EventBridge (a property of the bucket, no custom
resource), the rule's target is the queue (its policy admits this rule only), and events
EventBridge cannot deliver go to the ingestion dead-letter queue.

The ingest function OCRs scans and images with Amazon Textract (multi-page PDFs are staged under
textract-staging/) and starts an Amazon Transcribe job for audio, which writes its transcript
under transcripts/; when the job ends, the transcription function (handlers/transcription.py)
resumes ingestion of that document. Textract has no resource-level permissions, so its grant
names Resource '*' (tests/cdk/test_cdk_iam.py lists it); Transcribe's job actions are scoped to
this stage's job names (noticebot.domain.keys.transcription_job_prefix: the bucket's name, so
one stage's rule, grant and adapter never see another stage's jobs).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from constructs import Construct
from noticebot.domain.keys import (
    TEXTRACT_STAGING_PREFIX,
    TRANSCRIPTS_PREFIX,
    UPLOAD_KEYS,
    transcription_job_prefix,
)
from noticebot.functions import INGEST, TRANSCRIPTION

from cdk.config import StageConfig
from cdk.constructs.event_queue import event_queue
from cdk.constructs.function import ServiceFunction
from cdk.constructs.storage import Storage
from cdk.nag import acknowledge_wildcard

TRANSCRIBE_WILDCARD_REASON = (
    "Transcribe jobs are named per document at run time ({bucket}-tx-{document id}); the grant "
    "covers this stage's job-name prefix only (noticebot.domain.keys.transcription_job_prefix).")
MAX_RECEIVE_COUNT = 3  # deliveries before a message moves to the dead-letter queue
TEXTRACT_ACTIONS = ["textract:DetectDocumentText", "textract:StartDocumentTextDetection",
                    "textract:GetDocumentTextDetection"]
TRANSCRIBE_ACTIONS = ["transcribe:StartTranscriptionJob", "transcribe:GetTranscriptionJob",
                      "transcribe:DeleteTranscriptionJob"]


class Ingestion(Construct):
    """Exposes `queue`, `dead_letter_queue`, `function` and `transcription` (ServiceFunctions),
    `upload_rule`, `transcription_rule`, `transcribe_job_prefix`."""

    def __init__(self, scope: Construct, id: str, *, config: StageConfig, storage: Storage,
                 code: lambda_.Code, environment: dict[str, str],
                 transcription_code: lambda_.Code,
                 transcription_environment: dict[str, str]) -> None:
        super().__init__(scope, id)
        fn_cfg = config.functions
        stack = cdk.Stack.of(self)

        self.queue, self.dead_letter_queue = event_queue(
            self, "Uploads", function_timeout_s=fn_cfg.ingest_timeout_s, retention_days=4,
            max_receive_count=MAX_RECEIVE_COUNT)

        # The bucket sends every event to EventBridge; this rule picks the uploads.
        cfn_bucket: s3.CfnBucket = storage.bucket.node.default_child
        cfn_bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
            event_bridge_configuration=s3.CfnBucket.EventBridgeConfigurationProperty(
                event_bridge_enabled=True))
        self.upload_rule = events.Rule(
            self, "UploadCreated",
            description=f"{config.prefix}: an upload (tenants/*/raw/*) -> the ingest queue",
            event_pattern=events.EventPattern(
                source=["aws.s3"], detail_type=["Object Created"],
                detail={"bucket": {"name": [storage.bucket_physical_name]},
                        "object": {"key": [{"wildcard": UPLOAD_KEYS}]}}))
        self.upload_rule.add_target(targets.SqsQueue(
            self.queue, dead_letter_queue=self.dead_letter_queue, retry_attempts=8,
            max_event_age=cdk.Duration.hours(24)))

        self.function = ServiceFunction(
            self, "Ingest", config=config, spec=INGEST, code=code,
            memory_mb=fn_cfg.ingest_memory_mb, timeout_s=fn_cfg.ingest_timeout_s,
            # Presigned uploads may be up to presigned_max_bytes; parsing needs room in /tmp.
            ephemeral_storage_mb=max(512, min(10240, 2 * fn_cfg.presigned_max_bytes // 2**20)),
            environment=environment,
            star_actions="Amazon Textract (DetectDocumentText, Start/GetDocumentTextDetection)")
        self.function.function.add_event_source(sources.SqsEventSource(
            self.queue, batch_size=fn_cfg.ingest_batch_size,
            max_concurrency=fn_cfg.ingest_max_concurrency,
            max_batching_window=cdk.Duration.seconds(5),
            # BatchProcessor reports failed records; only those are retried (and dead-lettered).
            report_batch_item_failures=True))

        # ---- OCR (Textract) and speech to text (Transcribe), started by ingest ----------------
        ingest_role = self.function.role
        ingest_role.add_to_policy(iam.PolicyStatement(
            sid="Textract", actions=TEXTRACT_ACTIONS, resources=["*"]))
        self.transcribe_job_prefix = transcription_job_prefix(storage.bucket_physical_name)
        jobs = stack.format_arn(service="transcribe", resource="transcription-job",
                                resource_name=f"{self.transcribe_job_prefix}*")
        ingest_role.add_to_policy(iam.PolicyStatement(
            sid="TranscribeJobs", actions=TRANSCRIBE_ACTIONS, resources=[jobs]))
        acknowledge_wildcard(ingest_role, jobs, TRANSCRIBE_WILDCARD_REASON)
        storage.grant_objects(ingest_role, "TextractStaging", TEXTRACT_STAGING_PREFIX,
                              ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"])
        # Transcribe reads the upload and writes the transcript with the caller's permissions.
        storage.grant_objects(ingest_role, "Transcripts", TRANSCRIPTS_PREFIX,
                              ["s3:PutObject", "s3:GetObject"])

        self.transcription = ServiceFunction(
            self, "Transcription", config=config, spec=TRANSCRIPTION, code=transcription_code,
            memory_mb=fn_cfg.ingest_memory_mb, timeout_s=fn_cfg.ingest_timeout_s,
            environment=transcription_environment)
        transcription_fn = self.transcription.function
        # Asynchronous invocations (EventBridge): two retries, then the event is kept in the
        # ingestion dead-letter queue, whose alarm pages.
        transcription_fn.configure_async_invoke(
            retry_attempts=2, max_event_age=cdk.Duration.hours(6),
            on_failure=destinations.SqsDestination(self.dead_letter_queue))
        self.transcription.role.add_to_policy(iam.PolicyStatement(
            sid="TranscribeJobs", actions=["transcribe:GetTranscriptionJob"], resources=[jobs]))
        acknowledge_wildcard(self.transcription.role, jobs, TRANSCRIBE_WILDCARD_REASON)
        storage.grant_objects(self.transcription.role, "Transcripts", TRANSCRIPTS_PREFIX,
                              ["s3:GetObject"])
        self.transcription_rule = events.Rule(
            self, "TranscriptionDone",
            description=f"{config.prefix}: a Transcribe job of an audio upload ended",
            event_pattern=events.EventPattern(
                source=["aws.transcribe"], detail_type=["Transcribe Job State Change"],
                detail={"TranscriptionJobName": [{"prefix": self.transcribe_job_prefix}],
                        "TranscriptionJobStatus": ["COMPLETED", "FAILED"]}))
        self.transcription_rule.add_target(targets.LambdaFunction(
            transcription_fn, retry_attempts=4, max_event_age=cdk.Duration.hours(6),
            dead_letter_queue=self.dead_letter_queue))
