"""The embed function's request and response formats, shared by its handler and its clients.

Why base64 float32 rather than JSON numbers: a vector crosses the wire bit for bit, so the
API function (which asks the embedder function) and the ingest function (which embeds in
process) write identical vectors for identical text, and a 384-d vector costs 2 KB instead
of ~7 KB of decimal digits. Decoding needs only the standard library (``array``), so the
API function ships without numpy.

    request   {"kind": "query" | "documents", "texts": [str, ...]}
    response  {"model_id": str, "dimension": int, "max_tokens": int,
               "vectors": [base64 of little-endian float32, ...]}
    refusal   {"error": {"code": "invalid_request", "message": str}}

Reranking is the same function's other operation (its bundle carries the cross-encoder too,
so the API reranks without a model of its own and without another always-on function):

    request   {"kind": "rerank", "query": str, "passages": [str, ...]}
    response  {"model_id": str, "scores": [float, ...]}   one score per passage, in order

Scores are plain JSON numbers: they only order one request's passages, a handful per search.
"""

from __future__ import annotations

import base64
import sys
from array import array

EMBED_KINDS = ("query", "documents")
RERANK = "rerank"
KINDS = (*EMBED_KINDS, RERANK)
MAX_TEXTS = 64  # per request; the client splits larger batches
MAX_TEXT_CHARS = 20_000  # the model reads 256 tokens; anything longer is a caller's bug
MAX_PASSAGES = 64  # per rerank request; the client splits larger lists


class WireError(ValueError):
    """A request or response that does not follow the format."""


def encode_vector(values) -> str:
    """float32 little-endian bytes of a vector (a numpy row or a sequence of floats)."""
    packed = array("f", (float(v) for v in values))
    if sys.byteorder != "little":
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode("ascii")


def decode_vector(text: str, dimension: int) -> list[float]:
    try:
        raw = base64.b64decode(text, validate=True)
    except (ValueError, TypeError) as exc:
        raise WireError(f"vector is not base64: {exc}") from exc
    if len(raw) != 4 * dimension:
        raise WireError(f"vector has {len(raw) // 4} values, expected {dimension}")
    packed = array("f")
    packed.frombytes(raw)
    if sys.byteorder != "little":
        packed.byteswap()
    return packed.tolist()


def request_kind(event) -> str:
    """The operation a request asks for, or WireError."""
    if not isinstance(event, dict):
        raise WireError("the request must be a JSON object")
    kind = event.get("kind")
    if kind not in KINDS:
        raise WireError(f"kind must be one of {KINDS}, not {kind!r}")
    return kind


def _check_length(texts: list[str]) -> None:
    longest = max(len(t) for t in texts)
    if longest > MAX_TEXT_CHARS:
        raise WireError(f"a text has {longest} characters; the limit is {MAX_TEXT_CHARS}")


def validate_request(event) -> tuple[str, list[str]]:
    """(kind, texts) of an embedding request, or WireError with a message a developer can act
    on."""
    kind, texts = request_kind(event), event.get("texts")
    if kind not in EMBED_KINDS:
        raise WireError(f"kind {kind!r} is not an embedding request")
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise WireError("texts must be a list of strings")
    if not texts:
        raise WireError("texts must not be empty")
    if len(texts) > MAX_TEXTS:
        raise WireError(f"at most {MAX_TEXTS} texts per request, got {len(texts)}")
    if kind == "query" and len(texts) != 1:
        raise WireError("a query request carries exactly one text")
    _check_length(texts)
    return kind, texts


def validate_rerank(event) -> tuple[str, list[str]]:
    """(query, passages) of a rerank request, or WireError."""
    if request_kind(event) != RERANK:
        raise WireError("not a rerank request")
    query, passages = event.get("query"), event.get("passages")
    if not isinstance(query, str) or not query.strip():
        raise WireError("query must be a non-empty string")
    if not isinstance(passages, list) or not all(isinstance(p, str) for p in passages):
        raise WireError("passages must be a list of strings")
    if not passages:
        raise WireError("passages must not be empty")
    if len(passages) > MAX_PASSAGES:
        raise WireError(f"at most {MAX_PASSAGES} passages per request, got {len(passages)}")
    _check_length([query, *passages])
    return query, passages


def rerank_request(query: str, passages: list[str]) -> dict:
    """A request the handler accepts: texts cut to the limit (the model reads 256 tokens of a
    pair, so nothing it would see is lost)."""
    return {"kind": RERANK, "query": query[:MAX_TEXT_CHARS],
            "passages": [p[:MAX_TEXT_CHARS] for p in passages]}
