"""Upload bytes -> cleaned ParsedDocument: detect the kind, parse, clean.

This is the one entry point the ingestion service calls. Its contract is that a file either
becomes text or raises UnreadableDocument with a message fit to show on the failed document;
no other exception escapes, because an unexpected crash would leave a document stuck in
"processing" with no explanation.
"""

from __future__ import annotations

from noticebot.domain.errors import UnreadableDocument
from noticebot.ingestion.clean import clean_document
from noticebot.ingestion.detect import KIND_LABELS, detect_kind
from noticebot.ingestion.parsed import ParsedDocument, ParseLimits
from noticebot.ingestion.parsers import get_parser

__all__ = ["ParseLimits", "parse_document"]

_NO_TEXT = {
    "pdf": "no extractable text (scanned PDF without a text layer?)",
    "html": "no readable text in this HTML page",
}


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".rstrip("0").rstrip(".")


def parse_document(data: bytes, filename: str, declared_type: str | None = None,
                   limits: ParseLimits = ParseLimits()) -> ParsedDocument:
    """Parse an uploaded file into cleaned, non-empty sections, or raise UnreadableDocument."""
    if not data:
        raise UnreadableDocument("file is empty (0 bytes)")
    if len(data) > limits.max_bytes:
        raise UnreadableDocument(
            f"file too large ({_megabytes(len(data))} MB > {_megabytes(limits.max_bytes)} MB limit)"
        )
    kind = "unknown"
    try:
        kind = detect_kind(data, filename, declared_type)
        parser = get_parser(kind)
        doc = clean_document(parser(data, filename, limits))
    except UnreadableDocument:
        raise
    except Exception as exc:  # noqa: BLE001 - the contract: nothing but UnreadableDocument escapes
        label = KIND_LABELS.get(kind, kind)
        raise UnreadableDocument(f"could not read {label} file: {type(exc).__name__}") from exc
    if not doc.sections:
        raise UnreadableDocument(_NO_TEXT.get(kind, "file contains no readable text"))
    return doc
