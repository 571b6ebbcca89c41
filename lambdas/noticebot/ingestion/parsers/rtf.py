"""RTF via striprtf: the text with control words removed, tables kept as row records.

RTF is 7-bit text whose non-ASCII characters are escapes in the code page the header declares
(\\ansicpg1252) or \\uN Unicode escapes; striprtf decodes both given that code page. Embedded
pictures and fonts are skipped by it. striprtf renders a table row as "a|b|c|"; runs of such
lines are turned back into a table with its first row as header.
"""

from __future__ import annotations

import codecs
import re

from noticebot.domain.errors import UnreadableDocument
from noticebot.ingestion.parsed import ParsedDocument, ParseLimits, Section
from noticebot.ingestion.tables import simple_table_sections

_CODEPAGE = re.compile(rb"\\ansicpg(\d+)")


def _encoding(data: bytes) -> str:
    found = _CODEPAGE.search(data[:4096])
    if found:
        name = f"cp{int(found.group(1))}"
        try:
            codecs.lookup(name)
            return name
        except LookupError:
            pass
    return "cp1252"


def parse(data: bytes, filename: str, limits: ParseLimits) -> ParsedDocument:
    from striprtf.striprtf import rtf_to_text

    if not data.lstrip()[:5] == b"{\\rtf":
        raise UnreadableDocument("corrupt RTF document: it does not start with {\\rtf")
    try:
        text = rtf_to_text(data.decode("latin-1"), encoding=_encoding(data), errors="replace")
    except Exception as exc:  # noqa: BLE001 - striprtf on malformed input
        raise UnreadableDocument(f"corrupt RTF document: {type(exc).__name__}") from exc
    sections: list[Section] = []
    lines: list[str] = []
    table: list[list[str]] = []
    tables = 0

    def flush_text() -> None:
        body = "\n".join(lines).strip()
        if body:
            sections.append(Section(text=body))
        lines.clear()

    for line in text.split("\n") + [""]:
        if line.endswith("|") and line.count("|") >= 2:
            if not table:
                flush_text()
            table.append(line[:-1].split("|"))
            continue
        if table:
            tables += 1
            sections.extend(simple_table_sections(table, f"Table {tables}"))
            table = []
        lines.append(line)
    flush_text()
    return ParsedDocument(kind="rtf", title=None, sections=sections)
