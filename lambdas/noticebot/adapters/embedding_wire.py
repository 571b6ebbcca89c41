"""The embedder function's request and response format, shared by its handler and its client.

Why base64 float32 rather than JSON numbers: a vector crosses the wire bit for bit, so the
API function (which asks the embedder function) and the ingest function (which embeds in
process) write identical vectors for identical text, and a 384-d vector costs 2 KB instead
of ~7 KB of decimal digits. Decoding needs only the standard library (``array``), so the
API function ships without numpy.

    request   {"kind": "query" | "documents", "texts": [str, ...]}
    response  {"model_id": str, "dimension": int, "max_tokens": int,
               "vectors": [base64 of little-endian float32, ...]}
    refusal   {"error": {"code": "invalid_request", "message": str}}
"""

from __future__ import annotations

import base64
import sys
from array import array

KINDS = ("query", "documents")
MAX_TEXTS = 64  # per request; the client splits larger batches
MAX_TEXT_CHARS = 20_000  # the model reads 256 tokens; anything longer is a caller's bug


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


def validate_request(event) -> tuple[str, list[str]]:
    """(kind, texts) of a request, or WireError with a message a developer can act on."""
    if not isinstance(event, dict):
        raise WireError("the request must be a JSON object")
    kind, texts = event.get("kind"), event.get("texts")
    if kind not in KINDS:
        raise WireError(f"kind must be one of {KINDS}, not {kind!r}")
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise WireError("texts must be a list of strings")
    if not texts:
        raise WireError("texts must not be empty")
    if len(texts) > MAX_TEXTS:
        raise WireError(f"at most {MAX_TEXTS} texts per request, got {len(texts)}")
    if kind == "query" and len(texts) != 1:
        raise WireError("a query request carries exactly one text")
    longest = max(len(t) for t in texts)
    if longest > MAX_TEXT_CHARS:
        raise WireError(f"a text has {longest} characters; the limit is {MAX_TEXT_CHARS}")
    return kind, texts
