"""The embedder function's handler and wire format."""

import base64

import numpy as np
import pytest

from fakes import FakeEmbedder
from noticebot.adapters.embedding_wire import (
    MAX_TEXT_CHARS,
    MAX_TEXTS,
    WireError,
    decode_vector,
    encode_vector,
)
from noticebot.handlers import embed


def test_float32_vectors_survive_the_wire_exactly():
    rng = np.random.default_rng(7)
    row = rng.standard_normal(384).astype(np.float32)
    text = encode_vector(row)
    assert len(base64.b64decode(text)) == 384 * 4
    assert np.array_equal(np.asarray(decode_vector(text, 384), dtype=np.float32), row)
    # A list of Python floats encodes the same as the float32 row it came from.
    assert encode_vector(row.tolist()) == text


def test_decoding_checks_length_and_alphabet():
    with pytest.raises(WireError, match="expected 384"):
        decode_vector(encode_vector([0.5] * 10), 384)
    with pytest.raises(WireError, match="base64"):
        decode_vector("not base64!!", 384)


def test_the_handler_embeds_queries_and_documents():
    model = FakeEmbedder()
    out = embed.handle({"kind": "documents", "texts": ["party friday", "hall closed"]}, model)
    assert (out["model_id"], out["dimension"], out["max_tokens"]) == ("fake-hash-embedder", 64, 256)
    rows = np.asarray([decode_vector(v, 64) for v in out["vectors"]], dtype=np.float32)
    assert np.array_equal(rows, model.embed_documents(["party friday", "hall closed"]))
    out = embed.handle({"kind": "query", "texts": ["party?"]}, model)
    assert len(out["vectors"]) == 1


@pytest.mark.parametrize("event, message", [
    ([], "JSON object"),
    ({"kind": "sentences", "texts": ["a"]}, "kind must be"),
    ({"kind": "documents", "texts": "a"}, "list of strings"),
    ({"kind": "documents", "texts": ["a", 3]}, "list of strings"),
    ({"kind": "documents", "texts": []}, "must not be empty"),
    ({"kind": "documents", "texts": ["a"] * (MAX_TEXTS + 1)}, f"at most {MAX_TEXTS}"),
    ({"kind": "query", "texts": ["a", "b"]}, "exactly one"),
    ({"kind": "query", "texts": ["x" * (MAX_TEXT_CHARS + 1)]}, "limit is"),
])
def test_malformed_requests_are_refused_with_a_reason(event, message):
    model = FakeEmbedder()
    out = embed.handle(event, model)
    assert out["error"]["code"] == "invalid_request" and message in out["error"]["message"]
    assert model.calls == 0


def test_the_lambda_entry_point_uses_the_embedder_it_is_given():
    model = FakeEmbedder()
    embed.use_embedder(model)
    try:
        out = embed.handler({"kind": "query", "texts": ["summer party"]}, None)
    finally:
        embed.use_embedder(None)
    assert np.array_equal(np.asarray(decode_vector(out["vectors"][0], 64), dtype=np.float32),
                          model.embed_query("summer party"))
