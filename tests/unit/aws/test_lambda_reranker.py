"""The AWS reranker: cross-encoder scores from the embed function's rerank operation."""

from __future__ import annotations

import io
import json

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from apiclient import claims_for
from fakes import FakeEmbedder, FakeReranker, FakeVectorIndex
from lambda_fakes import FakeLambdaClient
from noticebot.adapters.aws.clients import AwsClients
from noticebot.adapters.aws.lambda_embedder import LambdaEmbedder
from noticebot.adapters.aws.lambda_reranker import LambdaReranker
from noticebot.adapters.embedding_wire import MAX_PASSAGES, MAX_TEXT_CHARS
from noticebot.domain.errors import ModelUnavailable
from noticebot.domain.models import Chunk
from noticebot.handlers import embed
from noticebot.handlers.api.identity import principal_from_claims
from noticebot.services.search import SearchService

FUNCTION = "arn:aws:lambda:us-east-1:111111111111:function:noticebot-dev-embed:live"
CROSS_ENCODER = "ms-marco-MiniLM-L-12-v2-onnx"


def reranker_over(model, *, fail_with=None, handler=None):
    client = FakeLambdaClient(
        {FUNCTION: handler or (lambda event, ctx: embed.handle(event, None, model))},
        fail_with=fail_with)
    return LambdaReranker(FUNCTION, client, model_id=model.model_id), client


def payload(doc) -> StreamingBody:
    raw = json.dumps(doc).encode()
    return StreamingBody(io.BytesIO(raw), len(raw))


# ---- the request, checked against the Lambda service model --------------------------------------
def test_the_invoke_request_is_valid_for_the_lambda_service_model():
    client = AwsClients("us-east-1").get("lambda")  # the client bootstrap_aws builds
    reranker = LambdaReranker(FUNCTION, client)
    query, passages = "When is the summer party?", ["Party on 12 July.", "Hall closed."]
    body = json.dumps({"kind": "rerank", "query": query, "passages": passages}).encode()
    with Stubber(client) as stub:
        # Stubber checks the parameters against botocore's model of Invoke (names, types,
        # the FunctionName pattern) and that exactly these were sent.
        stub.add_response("invoke", {"StatusCode": 200, "ExecutedVersion": "7",
                                     "Payload": payload({"model_id": CROSS_ENCODER,
                                                         "scores": [4.5, -7.25]})},
                          expected_params={"FunctionName": FUNCTION,
                                           "InvocationType": "RequestResponse", "Payload": body})
        assert reranker.score(query, passages) == [4.5, -7.25]
        stub.assert_no_pending_responses()


def test_a_function_error_is_a_503_and_nothing_leaks():
    client = boto3.client("lambda", region_name="us-east-1")
    reranker = LambdaReranker(FUNCTION, client)
    with Stubber(client) as stub:
        stub.add_response("invoke", {
            "StatusCode": 200, "FunctionError": "Unhandled",
            "Payload": payload({"errorMessage": "cannot load /var/task/models/x/model.onnx",
                                "errorType": "ModelUnavailable", "stackTrace": []})})
        with pytest.raises(ModelUnavailable) as err:
            reranker.score("q", ["p"])
    assert err.value.status == 503 and "/var/task" not in err.value.message


def test_throttling_after_retries_is_a_503():
    client = boto3.client("lambda", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error("invoke", service_error_code="TooManyRequestsException",
                              service_message="Rate exceeded", http_status_code=429)
        with pytest.raises(ModelUnavailable, match="reranking service is unavailable"):
            LambdaReranker(FUNCTION, client).score("q", ["p"])


def test_the_embedders_invoke_is_valid_for_the_service_model_too():
    client = boto3.client("lambda", region_name="us-east-1")
    model = FakeEmbedder()
    vectors = embed.handle({"kind": "query", "texts": ["party"]}, model)
    with Stubber(client) as stub:
        stub.add_response("invoke", {"StatusCode": 200, "Payload": payload(vectors)},
                          expected_params={"FunctionName": FUNCTION,
                                           "InvocationType": "RequestResponse",
                                           "Payload": b'{"kind": "query", "texts": ["party"]}'})
        remote = LambdaEmbedder(FUNCTION, client, tokenizer_path=None,
                                model_id=model.model_id, dimension=model.dimension)
        assert len(remote.embed_query("party")) == model.dimension


# ---- through the real handler --------------------------------------------------------------
def test_scores_equal_the_in_process_ones():
    model = FakeReranker()
    remote, client = reranker_over(model)
    passages = ["The summer party is on 12 July.", "Bins go out on Tuesdays.", ""]
    assert remote.score("when is the summer party", passages) == \
        model.score("when is the summer party", passages)
    assert [c["event"]["kind"] for c in client.calls] == ["rerank"]


def test_long_lists_are_split_under_the_request_limit_and_stay_in_order():
    model = FakeReranker()
    remote, client = reranker_over(model)
    passages = [f"notice {i} about the party" if i % 3 else f"bins {i}" for i in
                range(MAX_PASSAGES + 5)]
    assert remote.score("party", passages) == model.score("party", passages)
    assert [len(c["event"]["passages"]) for c in client.calls] == [MAX_PASSAGES, 5]
    assert remote.score("party", []) == [] and len(client.calls) == 2


def test_overlong_texts_are_cut_to_what_the_function_accepts():
    model = FakeReranker()
    remote, client = reranker_over(model)
    assert len(remote.score("q" * (MAX_TEXT_CHARS + 10), ["p" * (MAX_TEXT_CHARS + 1)])) == 1
    sent = client.calls[0]["event"]
    assert len(sent["query"]) == len(sent["passages"][0]) == MAX_TEXT_CHARS


@pytest.mark.parametrize("answer, match", [
    ({"model_id": CROSS_ENCODER, "scores": [1.0]}, "unreadable"),  # one score for two
    ({"model_id": CROSS_ENCODER, "scores": [1.0, "high"]}, "not numbers"),
    ({"model_id": CROSS_ENCODER, "scores": [1.0, float("nan")]}, "not numbers"),
    ({"model_id": CROSS_ENCODER}, "unreadable"),
])
def test_a_bad_answer_is_refused(answer, match):
    reranker = LambdaReranker(FUNCTION, FakeLambdaClient({FUNCTION: lambda e, c: answer}))
    with pytest.raises(ModelUnavailable, match=match):
        reranker.score("q", ["a", "b"])


def test_a_refused_request_is_a_programming_error():
    reranker, _ = reranker_over(FakeReranker(), handler=lambda e, c: embed.handle(
        {**e, "passages": "not a list"}, None, FakeReranker()))
    with pytest.raises(ValueError, match="refused"):
        reranker.score("q", ["a"])


def test_a_function_without_a_reranker_says_so():
    reranker, _ = reranker_over(FakeReranker(), handler=lambda e, c: embed.handle(e, None))
    with pytest.raises(ValueError, match="no reranker"):
        reranker.score("q", ["a"])


def test_another_cross_encoder_still_ranks_and_is_logged(caplog):
    model = FakeReranker()
    remote = LambdaReranker(FUNCTION, FakeLambdaClient(
        {FUNCTION: lambda e, c: embed.handle(e, None, model)}), model_id=CROSS_ENCODER)
    assert remote.score("party", ["party time", "bins"]) == model.score("party", ["party time",
                                                                                 "bins"])
    assert "fake-reranker" in caplog.text


def test_no_client_is_built_until_the_first_score():
    built = []

    def factory():
        built.append(1)
        return FakeLambdaClient({FUNCTION: lambda e, c: embed.handle(e, None, FakeReranker())})

    remote = LambdaReranker(FUNCTION, factory, model_id="fake-reranker")
    assert built == []
    remote.score("a", ["b"])
    remote.score("a", ["c"])
    assert built == [1]


# ---- in the search service -----------------------------------------------------------------
def search_over(reranker):
    index, embedder = FakeVectorIndex(), FakeEmbedder()
    texts = ["The committee meets monthly; the summer party was mentioned in passing once.",
             "Summer party: 12 July, boathouse.", "Bins go out on Tuesdays.",
             "Party games for the summer fair need volunteers and a party tent."]
    index.upsert("riverside", [
        Chunk(chunk_id=f"c{i}", document_id=f"d{i}", ordinal=0, title=f"t{i}", text=t,
              vector=embedder.embed_documents([t])[0], page=1)
        for i, t in enumerate(texts)])
    return SearchService(index, embedder, 2000, reranker=reranker)


def test_search_reranks_through_the_function_and_keeps_the_fused_order_when_it_fails():
    member = principal_from_claims(claims_for("sam", "riverside"))
    fused = [p.document_id for p in search_over(None).search(member, "summer party", 4)]
    good, client = reranker_over(FakeReranker())
    reranked = search_over(good).search(member, "summer party", 4)
    assert [c["event"]["kind"] for c in client.calls] == ["rerank"]
    assert all(p.rerank_score is not None for p in reranked[:3])
    broken, _ = reranker_over(FakeReranker(), fail_with=TimeoutError("read timeout"))
    degraded = search_over(broken).search(member, "summer party", 4)
    assert [p.document_id for p in degraded] == fused
    assert all(p.rerank_score is None for p in degraded)
