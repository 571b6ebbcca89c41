"""Parser registry: one module per format, each exposing ``parse(data, filename, limits)``.

Built-in parsers are named by module path and imported on first use, so a Lambda that only ever
sees text never pays for importing pypdf or BeautifulSoup. Adding a format (docx, xlsx, ...) is a
new module here plus one line in ``_BUILTIN`` (or a ``register`` call); detection already knows
the kind and, until then, fails it as "unsupported file type".
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from noticebot.domain.errors import UnreadableDocument
from noticebot.ingestion.detect import KIND_LABELS
from noticebot.ingestion.parsed import ParsedDocument, ParseLimits

Parser = Callable[[bytes, str, ParseLimits], ParsedDocument]

_BUILTIN: dict[str, str] = {
    "pdf": "noticebot.ingestion.parsers.pdf",
    "html": "noticebot.ingestion.parsers.html",
    "markdown": "noticebot.ingestion.parsers.markdown",
    "text": "noticebot.ingestion.parsers.text",
    "docx": "noticebot.ingestion.parsers.word",
    "pptx": "noticebot.ingestion.parsers.slides",
    "odt": "noticebot.ingestion.parsers.opendocument",
    "ods": "noticebot.ingestion.parsers.opendocument_sheet",
    "rtf": "noticebot.ingestion.parsers.rtf",
    "csv": "noticebot.ingestion.parsers.csv_table",
    "tsv": "noticebot.ingestion.parsers.csv_table",
    "xlsx": "noticebot.ingestion.parsers.xlsx",
    "xls": "noticebot.ingestion.parsers.xls",
    "json": "noticebot.ingestion.parsers.json_data",
    "email": "noticebot.ingestion.parsers.eml",
    "image": "noticebot.ingestion.parsers.image",
    "audio": "noticebot.ingestion.parsers.audio",
}
_registered: dict[str, Parser] = {}


def register(kind: str, parser: Parser) -> None:
    """Add or replace the parser for ``kind`` (a kind returned by ``detect_kind``)."""
    _registered[kind] = parser


def supported_kinds() -> frozenset[str]:
    return frozenset(_BUILTIN) | frozenset(_registered)


def get_parser(kind: str) -> Parser:
    """The parser for ``kind``; UnreadableDocument naming the file type when there is none."""
    if kind in _registered:
        return _registered[kind]
    if kind in _BUILTIN:
        parser = importlib.import_module(_BUILTIN[kind]).parse
        _registered[kind] = parser
        return parser
    if kind == "encrypted-office":
        raise UnreadableDocument(
            "password protected Office document: upload a copy saved without a password"
        )
    hint = _HINTS.get(kind)
    raise UnreadableDocument(f"unsupported file type: {KIND_LABELS.get(kind, kind)}"
                             + (f"; {hint}" if hint else ""))


# What a person can do about a format that is known but not read here.
_HINTS: dict[str, str] = {
    "doc": "open it in Word or LibreOffice and save as .docx, then upload that",
    "ppt": "open it in PowerPoint or LibreOffice and save as .pptx, then upload that",
    "ole": "open it in its Office program and save it in the current format "
           "(.docx, .xlsx or .pptx)",
    "msg": "save the message as .eml (or as PDF) and upload that",
    "odp": "save it as .pptx or PDF and upload that",
}
