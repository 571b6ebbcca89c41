"""Ingestion: S3 ObjectCreated (tenants/) -> SQS (with a dead-letter queue) -> ingest Lambda,
and Transcribe's "job state change" -> EventBridge -> transcription Lambda for audio uploads.

The ingest function OCRs scans and images with Amazon Textract (multi-page PDFs are staged under
textract-staging/) and starts an Amazon Transcribe job for audio, which writes its transcript
under transcripts/; when the job ends, the transcription function (handlers/transcription.py)
resumes ingestion of that document. Textract and Transcribe job APIs have no resource-level
permissions, so those grants name Resource '*' (tests/cdk/test_cdk_iam.py lists them).

The notification is a property of the bucket itself (NotificationConfiguration), not CDK's
BucketNotifications custom resource: that one deploys an extra Lambda whose role may call
s3:PutBucketNotification on every bucket ('*'). The cycle CDK avoids with it (bucket ->
queue ARN, queue policy -> bucket ARN) is broken here by the bucket's explicit name: the queue
policy names the bucket ARN as a string, and the bucket depends on the queue policy, so S3's
permission check at PutBucketNotification time finds the policy in place.

S3 can filter on a prefix only, so dataset and model objects under tenants/ also arrive; the
ingest handler ignores every key outside tenants/{ws}/raw/{doc}/{name} (IngestService.ingest_object).
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
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from noticebot.domain.keys import TENANTS_PREFIX, TEXTRACT_STAGING_PREFIX, TRANSCRIPTS_PREFIX
from noticebot.functions import INGEST, TRANSCRIPTION

from cdk.config import StageConfig
from cdk.constructs.function import ServiceFunction
from cdk.constructs.storage import Storage

MAX_RECEIVE_COUNT = 3  # deliveries before a message moves to the dead-letter queue
# AWS's guidance for SQS event sources: visibility timeout >= 6x the function timeout, so a
# message is not redelivered while a retried batch is still running.
VISIBILITY_FACTOR = 6
# Transcribe job names the ingest function uses (noticebot.adapters.aws.transcribe.JOB_PREFIX).
TRANSCRIBE_JOB_PREFIX = "noticebot-"
TEXTRACT_ACTIONS = ["textract:DetectDocumentText", "textract:StartDocumentTextDetection",
                    "textract:GetDocumentTextDetection"]
TRANSCRIBE_ACTIONS = ["transcribe:StartTranscriptionJob", "transcribe:GetTranscriptionJob",
                      "transcribe:DeleteTranscriptionJob"]


class Ingestion(Construct):
    """Exposes `queue`, `dead_letter_queue`, `function` and `transcription` (ServiceFunctions),
    `transcription_rule`."""

    def __init__(self, scope: Construct, id: str, *, config: StageConfig, storage: Storage,
                 code: lambda_.Code, environment: dict[str, str],
                 transcription_code: lambda_.Code,
                 transcription_environment: dict[str, str]) -> None:
        super().__init__(scope, id)
        fn_cfg = config.functions
        stack = cdk.Stack.of(self)

        self.dead_letter_queue = sqs.Queue(
            self, "DeadLetters", retention_period=cdk.Duration.days(14),
            encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True)
        self.queue = sqs.Queue(
            self, "Uploads",
            visibility_timeout=cdk.Duration.seconds(fn_cfg.ingest_timeout_s * VISIBILITY_FACTOR),
            retention_period=cdk.Duration.days(4),
            encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dead_letter_queue,
                                                  max_receive_count=MAX_RECEIVE_COUNT))

        # S3 may send to this queue only on behalf of this stage's bucket in this account.
        bucket_arn = stack.format_arn(service="s3", region="", account="",
                                      resource=storage.bucket_physical_name)
        self.queue.add_to_resource_policy(iam.PolicyStatement(
            sid="S3UploadNotifications", principals=[iam.ServicePrincipal("s3.amazonaws.com")],
            actions=["sqs:SendMessage"], resources=[self.queue.queue_arn],
            conditions={"ArnEquals": {"aws:SourceArn": bucket_arn},
                        "StringEquals": {"aws:SourceAccount": stack.account}}))
        cfn_bucket: s3.CfnBucket = storage.bucket.node.default_child
        cfn_bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
            queue_configurations=[s3.CfnBucket.QueueConfigurationProperty(
                event="s3:ObjectCreated:*", queue=self.queue.queue_arn,
                filter=s3.CfnBucket.NotificationFilterProperty(
                    s3_key=s3.CfnBucket.S3KeyFilterProperty(rules=[
                        s3.CfnBucket.FilterRuleProperty(name="prefix", value=TENANTS_PREFIX)])))])
        queue_policy = self.queue.node.find_child("Policy")
        cfn_bucket.add_resource_dependency(queue_policy.node.default_child)

        self.function = ServiceFunction(
            self, "Ingest", config=config, spec=INGEST, code=code,
            memory_mb=fn_cfg.ingest_memory_mb, timeout_s=fn_cfg.ingest_timeout_s,
            # Presigned uploads may be up to presigned_max_bytes; parsing needs room in /tmp.
            ephemeral_storage_mb=max(512, min(10240, 2 * fn_cfg.presigned_max_bytes // 2**20)),
            environment=environment,
            star_actions="Amazon Textract (DetectDocumentText, Start/GetDocumentTextDetection) "
                         "and Amazon Transcribe job actions (Start/Get/DeleteTranscriptionJob)")
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
        ingest_role.add_to_policy(iam.PolicyStatement(
            sid="TranscribeJobs", actions=TRANSCRIBE_ACTIONS, resources=["*"]))
        storage.grant_objects(ingest_role, "TextractStaging", TEXTRACT_STAGING_PREFIX,
                              ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"])
        # Transcribe reads the upload and writes the transcript with the caller's permissions.
        storage.grant_objects(ingest_role, "Transcripts", TRANSCRIPTS_PREFIX,
                              ["s3:PutObject", "s3:GetObject"])

        self.transcription = ServiceFunction(
            self, "Transcription", config=config, spec=TRANSCRIPTION, code=transcription_code,
            memory_mb=fn_cfg.ingest_memory_mb, timeout_s=fn_cfg.ingest_timeout_s,
            environment=transcription_environment,
            star_actions="transcribe:GetTranscriptionJob")
        transcription_fn = self.transcription.function
        # Asynchronous invocations (EventBridge): two retries, then the event is kept in the
        # ingestion dead-letter queue, whose alarm pages.
        transcription_fn.configure_async_invoke(
            retry_attempts=2, max_event_age=cdk.Duration.hours(6),
            on_failure=destinations.SqsDestination(self.dead_letter_queue))
        self.transcription.role.add_to_policy(iam.PolicyStatement(
            sid="TranscribeJobs", actions=["transcribe:GetTranscriptionJob"], resources=["*"]))
        storage.grant_objects(self.transcription.role, "Transcripts", TRANSCRIPTS_PREFIX,
                              ["s3:GetObject"])
        self.transcription_rule = events.Rule(
            self, "TranscriptionDone",
            description=f"{config.prefix}: a Transcribe job of an audio upload ended",
            event_pattern=events.EventPattern(
                source=["aws.transcribe"], detail_type=["Transcribe Job State Change"],
                detail={"TranscriptionJobName": [{"prefix": TRANSCRIBE_JOB_PREFIX}],
                        "TranscriptionJobStatus": ["COMPLETED", "FAILED"]}))
        self.transcription_rule.add_target(targets.LambdaFunction(
            transcription_fn, retry_attempts=4, max_event_age=cdk.Duration.hours(6),
            dead_letter_queue=self.dead_letter_queue))
