"""OpenDocument spreadsheets (.ods, LibreOffice Calc) via odfpy: every sheet, as row records.

Cells are read as displayed (formula cells store their last result as text), with the typed
office:value as fallback. Calc pads sheets with runs of empty rows and columns repeated up to
the sheet's full size; those runs are skipped, never expanded.
"""

from __future__ import annotations

from noticebot.domain.errors import UnreadableDocument
from noticebot.ingestion.parsed import ParsedDocument, ParseLimits, Section
from noticebot.ingestion.parsers.opendocument import TABLE, elements, load, table_rows
from noticebot.ingestion.tables import RowBudget, clean_cell, grid_sections


def _tables(node):
    for child in elements(node):
        if child.qname == (TABLE, "table"):
            yield child
        else:
            yield from _tables(child)


def parse(data: bytes, filename: str, limits: ParseLimits) -> ParsedDocument:
    document = load(data, "OpenDocument spreadsheet (.ods)")
    budget = RowBudget(limits)
    sections: list[Section] = []
    for table in _tables(document.body):
        name = table.getAttrNS(TABLE, "name") or f"Sheet{len(sections) + 1}"
        rows = [(n, [clean_cell(c) for c in cells]) for n, cells in table_rows(table, budget)]
        sections.extend(grid_sections(rows, name=f"Sheet '{name}'", heading=name, letters=True))
    if not sections:
        raise UnreadableDocument("spreadsheet has no data: every sheet is empty")
    return ParsedDocument(kind="ods", title=None, sections=sections)
