"""Upload bytes -> cleaned ParsedDocument: detect the kind, parse, clean.

This is the one entry point the ingestion service calls. Its contract is that a file either
becomes text or raises UnreadableDocument with a message fit to show on the failed document;
no other exception escapes, because an unexpected crash would leave a document stuck in
"processing" with no explanation.
"""

from __future__ import annotations

import inspect

from noticebot.domain.errors import UnreadableDocument
from noticebot.ingestion.clean import clean_document
from noticebot.ingestion.detect import KIND_LABELS, detect_kind
from noticebot.ingestion.engines import NO_ENGINES, Engines
from noticebot.ingestion.parsed import ParsedDocument, ParseLimits
from noticebot.ingestion.parsers import get_parser
from noticebot.ingestion.zipguard import ZIP_KINDS, check_zip
from noticebot.ports.ocr import EngineUnavailable

__all__ = ["Engines", "ParseLimits", "check_size", "parse_document"]

_NO_TEXT = {
    "pdf": "no extractable text (scanned PDF without a text layer?)",
    "html": "no readable text in this HTML page",
    "image": "no readable text found in the image",
    "audio": "no speech found in the recording",
}


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".rstrip("0").rstrip(".")


def check_size(data: bytes, limits: ParseLimits) -> None:
    """The checks every upload gets before its bytes are looked at."""
    if not data:
        raise UnreadableDocument("file is empty (0 bytes)")
    if len(data) > limits.max_bytes:
        raise UnreadableDocument(
            f"file too large ({_megabytes(len(data))} MB > {_megabytes(limits.max_bytes)} MB limit)"
        )


_TAKES_ENGINES: dict[object, bool] = {}


def _takes_engines(parser) -> bool:
    """Parsers that need an outside engine (OCR, speech) declare an ``engines`` parameter;
    the others keep the plain ``(data, filename, limits)`` signature."""
    known = _TAKES_ENGINES.get(parser)
    if known is None:
        try:
            known = "engines" in inspect.signature(parser).parameters
        except (TypeError, ValueError):
            known = False
        _TAKES_ENGINES[parser] = known
    return known


def parse_document(data: bytes, filename: str, declared_type: str | None = None,
                   limits: ParseLimits = ParseLimits(),
                   engines: Engines | None = None) -> ParsedDocument:
    """Parse an uploaded file into cleaned, non-empty sections, or raise UnreadableDocument.

    ``engines`` carries the OCR engine and transcriber that images, scanned PDF pages and
    audio need; without them those formats fail with a message saying text cannot be read.
    """
    check_size(data, limits)
    engines = engines or NO_ENGINES
    kind = "unknown"
    try:
        kind = detect_kind(data, filename, declared_type)
        parser = get_parser(kind)
        if kind in ZIP_KINDS:  # refuse a decompression bomb from the zip directory alone
            check_zip(data, limits, KIND_LABELS.get(kind, kind))
        if _takes_engines(parser):
            parsed = parser(data, filename, limits, engines=engines)
        else:
            parsed = parser(data, filename, limits)
        doc = clean_document(parsed)
    except UnreadableDocument:
        raise
    except EngineUnavailable as exc:
        label = KIND_LABELS.get(kind, kind)
        raise UnreadableDocument(f"cannot read this {label} here: {exc}") from exc
    except TimeoutError as exc:
        label = KIND_LABELS.get(kind, kind)
        budget = f" (over {limits.max_seconds:.0f} s)" if limits.max_seconds is not None else ""
        raise UnreadableDocument(f"{label} took too long to read{budget}") from exc
    except Exception as exc:  # noqa: BLE001 - the contract: nothing but UnreadableDocument escapes
        label = KIND_LABELS.get(kind, kind)
        raise UnreadableDocument(f"could not read {label} file: {type(exc).__name__}") from exc
    if not doc.sections:
        raise UnreadableDocument(_NO_TEXT.get(kind, "file contains no readable text"))
    return doc
