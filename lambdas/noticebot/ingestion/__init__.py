"""Document ingestion: uploaded bytes -> cleaned sections -> token-bounded chunks.

``parse_document`` (detect, parse, clean) and ``chunk_sections`` are the public entry points;
formats live one per module under ``parsers/``.
"""

from noticebot.ingestion.chunking import chunk_sections
from noticebot.ingestion.detect import detect_kind
from noticebot.ingestion.parsed import ChunkDraft, ParsedDocument, ParseLimits, Section
from noticebot.ingestion.pipeline import parse_document

__all__ = [
    "ChunkDraft",
    "ParseLimits",
    "ParsedDocument",
    "Section",
    "chunk_sections",
    "detect_kind",
    "parse_document",
]
