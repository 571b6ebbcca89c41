import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fakes import FakeChatModel, FakeEmbedder
from noticebot.adapters.aws.clients import AwsClients
from noticebot.adapters.aws.dynamodb_metadata_store import DynamoDbMetadataStore
from noticebot.adapters.aws.opensearch_index import OpenSearchVectorIndex
from noticebot.adapters.aws.s3_blob_store import S3BlobStore
from noticebot.adapters.aws.sagemaker_endpoint import SageMakerEndpoint
from noticebot.bootstrap import bootstrap
from noticebot.bootstrap_aws import bootstrap_aws
from noticebot.config import Settings

ROOT = Path(__file__).resolve().parents[3]
ENV = {
    "NOTICEBOT_MODE": "aws", "NOTICEBOT_BUCKET": "docs-bucket", "NOTICEBOT_KMS_KEY_ID": "key-1",
    "NOTICEBOT_TABLE": "noticebot", "NOTICEBOT_SEARCH_ENDPOINT": "https://abc.us-east-1.aoss.amazonaws.com",
    "NOTICEBOT_SEARCH_SERVICE": "aoss", "NOTICEBOT_SEARCH_INDEX": "chunks-v1",
    "NOTICEBOT_CHAT_ENDPOINT": "noticebot-llm", "NOTICEBOT_CHAT_COMPONENT": "llama3-base",
    "NOTICEBOT_EMBED_MODEL_DIR": "/opt/models/bge", "NOTICEBOT_MAX_UPLOAD_BYTES": "3000000",
    "NOTICEBOT_PRESIGNED_MAX_BYTES": "50000000", "AWS_REGION": "eu-west-1",
}


@pytest.fixture
def aws_env(monkeypatch):
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)


def test_settings_read_the_cdk_environment(aws_env):
    s = Settings.from_env()
    assert (s.mode, s.bucket, s.kms_key_id, s.table) == ("aws", "docs-bucket", "key-1", "noticebot")
    assert (s.search_endpoint, s.search_service, s.search_index) == (
        ENV["NOTICEBOT_SEARCH_ENDPOINT"], "aoss", "chunks-v1")
    assert (s.chat_endpoint, s.chat_component, s.embed_model_dir) == (
        "noticebot-llm", "llama3-base", "/opt/models/bge")
    assert (s.max_upload_bytes, s.presigned_max_bytes, s.aws_region) == (3000000, 50000000, "eu-west-1")


def test_settings_defaults_when_optional_values_are_unset(monkeypatch):
    for key in ("NOTICEBOT_SEARCH_SERVICE", "NOTICEBOT_SEARCH_INDEX", "NOTICEBOT_KMS_KEY_ID"):
        monkeypatch.delenv(key, raising=False)
    s = Settings.from_env()
    assert (s.search_service, s.search_index, s.kms_key_id) == ("es", "noticebot-chunks", "")


def test_bootstrap_dispatches_aws_mode_and_creates_no_client(aws_env):
    clients = AwsClients("eu-west-1")
    c = bootstrap_aws(Settings.from_env(), clients=clients, embedder=FakeEmbedder())
    assert isinstance(c.blobs, S3BlobStore) and c.blobs.kms_key_id == "key-1"
    assert isinstance(c.metadata, DynamoDbMetadataStore) and c.metadata.table == "noticebot"
    assert isinstance(c.index, OpenSearchVectorIndex)
    assert (c.index.service, c.index.index_name, c.index.dimension) == ("aoss", "chunks-v1", 64)
    endpoint = c.chat_model.endpoint
    assert isinstance(endpoint, SageMakerEndpoint) and endpoint.base_component == "llama3-base"
    assert c.chat_model.handler.name == "llama3" and c.chat_model.model_id == "llama3-base"
    assert clients.created == []  # every client waits for its first use
    via_root = bootstrap(Settings.from_env(), embedder=FakeEmbedder(), chat_model=FakeChatModel())
    assert isinstance(via_root.blobs, S3BlobStore) and via_root.queue is None


def test_missing_configuration_names_the_variables(monkeypatch):
    monkeypatch.delenv("NOTICEBOT_TABLE", raising=False)
    with pytest.raises(ValueError, match="NOTICEBOT_BUCKET, NOTICEBOT_TABLE, NOTICEBOT_SEARCH_ENDPOINT"):
        bootstrap_aws(Settings(mode="aws"), embedder=FakeEmbedder())
    with pytest.raises(ValueError, match="'es'"):
        bootstrap_aws(Settings(mode="aws", bucket="b", table="t", search_endpoint="x",
                               search_service="solr"), embedder=FakeEmbedder())


def test_the_embedder_is_the_local_onnx_model_from_the_bundle(aws_env):
    from noticebot.adapters.local.onnx_embedder import OnnxEmbedder

    c = bootstrap_aws(Settings.from_env(), chat_model=FakeChatModel())
    assert isinstance(c.embedder, OnnxEmbedder) and str(c.embedder.model_dir) == "/opt/models/bge"
    assert c.index.dimension == 384


def test_with_an_embedder_function_only_the_tokenizer_stays_in_process(aws_env, monkeypatch):
    from noticebot.adapters.aws.lambda_embedder import LambdaEmbedder

    arn = "arn:aws:lambda:eu-west-1:111111111111:function:noticebot-dev-embed:live"
    monkeypatch.setenv("NOTICEBOT_EMBED_FUNCTION", arn)
    clients = AwsClients("eu-west-1")
    c = bootstrap_aws(Settings.from_env(), clients=clients, chat_model=FakeChatModel())
    assert isinstance(c.embedder, LambdaEmbedder) and c.embedder.function_name == arn
    assert str(c.embedder._tokens.path) == "/opt/models/bge/tokenizer.json"
    assert (c.embedder.model_id, c.embedder.dimension, c.index.dimension) == (
        "bge-small-en-onnx", 384, 384)
    assert clients.created == []


def test_search_reranks_through_the_embed_function_when_one_is_configured(aws_env, monkeypatch):
    from noticebot.adapters.aws.lambda_reranker import LambdaReranker

    arn = "arn:aws:lambda:eu-west-1:111111111111:function:noticebot-dev-embed:live"
    monkeypatch.setenv("NOTICEBOT_EMBED_FUNCTION", arn)
    clients = AwsClients("eu-west-1")
    c = bootstrap_aws(Settings.from_env(), clients=clients, chat_model=FakeChatModel())
    assert isinstance(c.search.reranker, LambdaReranker) and c.search.reranker.function_name == arn
    assert c.search.reranker.model_id == "ms-marco-MiniLM-L-12-v2-onnx"
    assert clients.created == []  # the Lambda client comes with the first search
    # One client for both: the embedder's and the reranker's Lambda client are the same.
    assert c.search.reranker._client() is c.embedder._client()
    assert clients.created == ["lambda"]


def test_without_an_embed_function_there_is_no_reranker(aws_env):
    # The ingest and deploy functions: they never search, and carry no cross-encoder.
    c = bootstrap_aws(Settings.from_env(), embedder=FakeEmbedder(), chat_model=FakeChatModel())
    assert c.search.reranker is None


PROBE = """
import json, os, sys, time
t = time.perf_counter()
from noticebot.handlers.api import app
from noticebot.handlers import ingest
imported = time.perf_counter() - t
heavy = ["boto3", "botocore.client", "opensearchpy", "langchain_core", "langchain_aws", "onnxruntime"]
at_import = [m for m in heavy if m in sys.modules]
from noticebot.handlers.lambda_container import lambda_container
lambda_container()
print(json.dumps({"at_import": at_import, "after_bootstrap": [m for m in heavy if m in sys.modules]}))
"""


def test_nothing_heavy_is_imported_before_it_is_used():
    env = {**os.environ, **ENV, "PYTHONPATH": str(ROOT / "lambdas")}
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True,
                         check=True, cwd=ROOT)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    # the handlers import no SDK (powertools loads only botocore's bare package, for its version)
    assert result["at_import"] == []
    # building the container loads boto3's serialisers, never the search client, the
    # model runtime or langchain-aws (ingestion may use langchain-text-splitters' core)
    assert not {"opensearchpy", "langchain_aws", "onnxruntime"} & set(result["after_bootstrap"])
