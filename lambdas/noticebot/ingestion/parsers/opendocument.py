"""OpenDocument text (.odt, LibreOffice Writer) via odfpy: headings, paragraphs, lists, tables.

Same shape as the Word parser: text:h headings start sections, lists become "- " lines, tables
become row records keeping their header row ("Table n"). Frames, text boxes and sections are
read in place. A password-protected file has encrypted content streams, announced in its
manifest: it fails as password protected before odfpy sees it.
"""

from __future__ import annotations

import io
import zipfile

from noticebot.domain.errors import UnreadableDocument
from noticebot.ingestion.parsed import ParsedDocument, ParseLimits, Section
from noticebot.ingestion.tables import simple_table_sections

TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_SKIP = {(TEXT, "tracked-changes"), (TEXT, "sequence-decls"), (TEXT, "variable-decls"),
         (TEXT, "user-field-decls"), (OFFICE, "forms"), (TEXT, "note-citation")}
_MAX_REPEAT = 1000


def check_encrypted(data: bytes, label: str) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            manifest = archive.read("META-INF/manifest.xml")
    except (KeyError, zipfile.BadZipFile, OSError, ValueError):
        return
    if b"encryption-data" in manifest:
        raise UnreadableDocument(
            f"password protected {label}: upload a copy saved without a password")


def load(data: bytes, label: str):
    from odf.opendocument import load as odf_load

    check_encrypted(data, label)
    try:
        return odf_load(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - zip/XML errors of a damaged file
        detail = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
        raise UnreadableDocument(f"corrupt or truncated {label}: {detail}") from exc


def elements(node):
    return [c for c in node.childNodes if c.nodeType == 1]


def text_of(node) -> str:
    from odf import teletype

    return " ".join(teletype.extractText(node).split(" ")).strip()


def repeat(node, attribute: str) -> int:
    try:
        value = node.getAttrNS(TABLE, attribute)
        return max(1, int(value)) if value else 1
    except (ValueError, TypeError):
        return 1


def cell_text(cell) -> str:
    paragraphs = [text_of(p) for p in elements(cell) if p.qname == (TEXT, "p")]
    text = "\n".join(p for p in paragraphs if p)
    if not text:
        for attribute in ("value", "date-value", "time-value", "boolean-value", "string-value"):
            value = cell.getAttrNS(OFFICE, attribute)
            if value:
                return str(value)
    return text


def table_rows(table, budget=None) -> list[tuple[int, list[str]]]:
    """(row number, cells) of a table:table, expanding repeats without materialising the empty
    rows and columns that spreadsheets repeat by the million."""
    rows: list[tuple[int, list[str]]] = []
    number = 0
    order = list(_walk_rows(table))  # rows may sit in header-rows / row-groups containers
    for row in order:
        cells: list[str] = []
        pending = 0
        for cell in elements(row):
            if cell.qname not in ((TABLE, "table-cell"), (TABLE, "covered-table-cell")):
                continue
            text = cell_text(cell)
            times = repeat(cell, "number-columns-repeated")
            if not text:
                pending += times
                continue
            cells.extend([""] * min(pending, _MAX_REPEAT))
            pending = 0
            cells.extend([text] * min(times, _MAX_REPEAT))
        times = repeat(row, "number-rows-repeated")
        if not any(cells):
            number += times
            continue
        for _ in range(min(times, _MAX_REPEAT)):
            number += 1
            if budget is not None:
                budget.add(len(cells))
            rows.append((number, list(cells)))
        number += max(0, times - _MAX_REPEAT)
    return rows


def _walk_rows(node):
    for child in elements(node):
        if child.qname == (TABLE, "table-row"):
            yield child
        elif child.qname in ((TABLE, "table-header-rows"), (TABLE, "table-row-group"),
                             (TABLE, "table-rows")):
            yield from _walk_rows(child)


def parse(data: bytes, filename: str, limits: ParseLimits) -> ParsedDocument:
    document = load(data, "OpenDocument text (.odt)")
    sections: list[Section] = []
    buffer: list[str] = []
    state = {"heading": None, "tables": 0, "title": None}

    def flush() -> None:
        text = "\n\n".join(buffer).strip()
        if text:
            sections.append(Section(text=text, heading=state["heading"]))
        buffer.clear()

    def walk(node, prefix: str = "") -> None:
        for child in elements(node):
            name = child.qname
            if name in _SKIP:
                continue
            if name == (TEXT, "h"):
                text = " ".join(text_of(child).split())
                if text:
                    flush()
                    state["heading"] = text[:200]
                    state["title"] = state["title"] or text
                    buffer.append(text)
            elif name == (TEXT, "p"):
                text = text_of(child)
                if text:
                    buffer.append(prefix + text)
            elif name == (TEXT, "list"):
                walk(child, "- ")
            elif name == (TABLE, "table"):
                flush()
                state["tables"] += 1
                rows = [cells for _, cells in table_rows(child)]
                sections.extend(simple_table_sections(rows, f"Table {state['tables']}",
                                                      heading=state["heading"]))
            else:
                walk(child, prefix)

    try:
        walk(document.body)
    except UnreadableDocument:
        raise
    except Exception as exc:  # noqa: BLE001
        raise UnreadableDocument(f"corrupt OpenDocument text (.odt): {type(exc).__name__}") from exc
    flush()
    return ParsedDocument(kind="odt", title=None, sections=sections)
