"""The embedder function: texts in, bge-small vectors out (``adapters/embedding_wire``).

Invoked synchronously by the API and transcription functions (``LambdaEmbedder``), never by
API Gateway. It builds no container and reads no configuration beyond the model folder: the
ONNX session loads on the first request and stays for the life of the execution environment.

A request that breaks the format gets ``{"error": ...}`` back (the caller's bug, so no retry
helps); a model that cannot load raises, which the caller sees as a function error.
"""

from __future__ import annotations

import logging
import os
import threading

from noticebot.adapters.embedding_wire import WireError, encode_vector, validate_request

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_embedder = None


def get_embedder():
    global _embedder
    if _embedder is None:
        with _lock:
            if _embedder is None:
                from noticebot.adapters.local.onnx_embedder import OnnxEmbedder

                _embedder = OnnxEmbedder(os.environ.get("NOTICEBOT_EMBED_MODEL_DIR") or None)
    return _embedder


def use_embedder(embedder) -> None:
    """Tests (and the local fake Lambda client) hand the handler an embedder."""
    global _embedder
    _embedder = embedder


def handle(event, embedder) -> dict:
    try:
        kind, texts = validate_request(event)
    except WireError as exc:
        logger.warning("refused an embedding request: %s", exc)
        return {"error": {"code": "invalid_request", "message": str(exc)}}
    if kind == "query":
        rows = [embedder.embed_query(texts[0])]
    else:
        rows = embedder.embed_documents(texts)
    return {"model_id": embedder.model_id, "dimension": embedder.dimension,
            "max_tokens": embedder.max_tokens, "vectors": [encode_vector(r) for r in rows]}


def handler(event, context) -> dict:
    return handle(event, get_embedder())
