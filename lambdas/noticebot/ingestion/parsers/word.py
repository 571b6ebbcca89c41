"""Word .docx/.docm via python-docx: headings, paragraphs and tables in document order.

- Headings (the "Heading n"/"Title" styles, or any paragraph with an outline level) start a new
  section and become its heading, so a chunk can cite "Parking rules".
- Tables become row records that keep their header row (see ingestion/tables.py), named
  "Table n" in document order; a one-row or one-column table is layout and stays plain text.
- Content controls (w:sdt) and text boxes are read too: forms and newsletters keep text there.
- Page numbers: .docx has no pages, but Word records where it last broke pages
  (w:lastRenderedPageBreak). When a file has those and they agree with the page count Word
  stated in docProps/app.xml, sections get those page numbers; otherwise none are claimed
  (explicit page breaks alone undercount: text also flows onto new pages).

Legacy .doc (binary Word 97-2003) has no maintained pure-Python reader; it fails as unsupported
with the fix (save as .docx), see parsers/__init__.py.
"""

from __future__ import annotations

import io
import re
import zipfile

from noticebot.domain.errors import UnreadableDocument
from noticebot.ingestion.parsed import ParsedDocument, ParseLimits, Section
from noticebot.ingestion.tables import simple_table_sections

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_HEADING_STYLE = re.compile(r"^(heading\s*\d|title|subtitle)$", re.IGNORECASE)
_CONTAINERS = {f"{_W}sdt", f"{_W}sdtContent", f"{_W}customXml", f"{_W}smartTag",
               f"{_W}ins", f"{_W}moveTo"}


def _corrupt(exc: BaseException) -> UnreadableDocument:
    detail = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
    return UnreadableDocument(f"corrupt or truncated Word document (.docx): {detail}")


def _blocks(parent):
    """Paragraph and table elements of the body in order, looking inside content controls."""
    for child in parent.iterchildren():
        tag = child.tag
        if tag in (f"{_W}p", f"{_W}tbl"):
            yield child
        elif tag in _CONTAINERS:
            yield from _blocks(child)


def _paragraph_text(p) -> str:
    """The visible text of a w:p: runs, hyperlinks, tabs and breaks, not deleted text."""
    parts: list[str] = []
    for node in p.iter(f"{_W}t", f"{_W}tab", f"{_W}br", f"{_W}cr"):
        tag = node.tag
        if tag == f"{_W}t":
            if _inside(node, f"{_W}txbxContent", p):
                continue  # text boxes are read separately, once
            parts.append(node.text or "")
        elif tag == f"{_W}tab":
            parts.append("\t")
        elif tag in (f"{_W}br", f"{_W}cr"):
            parts.append("\n")
    return "".join(parts)


def _inside(node, tag: str, stop) -> bool:
    parent = node.getparent()
    while parent is not None and parent is not stop:
        if parent.tag == tag:
            return True
        parent = parent.getparent()
    return False


def _text_boxes(p) -> list[str]:
    """Paragraph texts of text boxes anchored in ``p`` (the Fallback copy is skipped)."""
    out = []
    for box in p.iter(f"{_W}txbxContent"):
        if _inside(box, _MC_FALLBACK, p):
            continue
        for inner in box.iter(f"{_W}p"):
            text = "".join(t.text or "" for t in inner.iter(f"{_W}t"))
            if text.strip():
                out.append(text)
    return out


def _style_id(p) -> str | None:
    ppr = p.find(f"{_W}pPr")
    style = ppr.find(f"{_W}pStyle") if ppr is not None else None
    return style.get(f"{_W}val") if style is not None else None


def _is_heading(p, style_names: dict[str, str]) -> bool:
    style = _style_id(p)
    name = style_names.get(style, style or "")
    if _HEADING_STYLE.match(name) or _HEADING_STYLE.match(style or ""):
        return True
    ppr = p.find(f"{_W}pPr")
    level = ppr.find(f"{_W}outlineLvl") if ppr is not None else None
    return level is not None and (level.get(f"{_W}val") or "9") < "9"


def _is_list_item(p, style_names: dict[str, str]) -> bool:
    """Numbered directly, or through a list style ("List Bullet", "List Number 2")."""
    ppr = p.find(f"{_W}pPr")
    if ppr is not None and ppr.find(f"{_W}numPr") is not None:
        return True
    style = _style_id(p)
    return (style_names.get(style, style or "") or "").lower().startswith("list ")


def _page_breaks(element) -> int:
    return sum(1 for _ in element.iter(f"{_W}lastRenderedPageBreak"))


def _stated_pages(data: bytes) -> int | None:
    """The page count Word wrote into docProps/app.xml, if any."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            with archive.open("docProps/app.xml") as member:
                head = member.read(65_536)
    except (KeyError, zipfile.BadZipFile, OSError, ValueError):
        return None
    found = re.search(rb"<(?:\w+:)?Pages>\s*(\d+)\s*<", head)
    return int(found.group(1)) if found else None


def _cells(tr):
    """The w:tc cells of a row, including those wrapped in content controls."""
    for child in tr.iterchildren():
        if child.tag == f"{_W}tc":
            yield child
        elif child.tag in _CONTAINERS:
            yield from _cells(child)


def _int(element, default: int) -> int:
    try:
        return max(0, min(int(element.get(f"{_W}val")), 64)) if element is not None else default
    except (TypeError, ValueError):
        return default


def _table_rows(tbl) -> list[list[str]]:
    """Cell texts per row aligned to the table grid: a cell spanning n grid columns is repeated
    n times, and a vertically merged cell repeats the value above, so each row reads whole."""
    rows: list[list[str]] = []
    for tr in tbl.iter(f"{_W}tr"):
        if _inside(tr, f"{_W}tbl", tbl):
            continue  # a nested table's row: its text is part of the outer cell
        trpr = tr.find(f"{_W}trPr")
        before = _int(trpr.find(f"{_W}gridBefore"), 0) if trpr is not None else 0
        cells: list[str] = [""] * before
        for tc in _cells(tr):
            text = "\n".join(_paragraph_text(p) for p in tc.iter(f"{_W}p")).strip()
            tcpr = tc.find(f"{_W}tcPr")
            span = _int(tcpr.find(f"{_W}gridSpan"), 1) if tcpr is not None else 1
            merge = tcpr.find(f"{_W}vMerge") if tcpr is not None else None
            if merge is not None and merge.get(f"{_W}val") != "restart" and rows:
                above = rows[-1]
                text = above[len(cells)] if len(cells) < len(above) else text
            cells.extend([text] * max(span, 1))
        rows.append(cells)
    return rows


def parse(data: bytes, filename: str, limits: ParseLimits) -> ParsedDocument:
    import docx  # python-docx, imported on first use
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except PackageNotFoundError as exc:
        raise UnreadableDocument(
            "corrupt or truncated Word document (.docx): it is not a Word package") from exc
    except Exception as exc:  # noqa: BLE001 - zip/XML errors of a damaged file
        raise _corrupt(exc) from exc
    try:
        style_names = {s.style_id: s.name or "" for s in document.styles}
    except Exception:  # noqa: BLE001 - a broken styles part: fall back to style ids
        style_names = {}
    body = document.element.body
    rendered_breaks = sum(1 for _ in body.iter(f"{_W}lastRenderedPageBreak"))
    stated = _stated_pages(data)
    # Rendered breaks are where Word turned pages when it saved; trust them only when they
    # agree with the page count Word stated. Explicit breaks alone undercount (text also
    # flows onto new pages), so without rendered ones no page numbers are claimed.
    paged = bool(rendered_breaks) and (stated is None or abs(stated - rendered_breaks - 1) <= 1)
    if stated and stated > limits.max_pages:
        raise UnreadableDocument(f"too many pages ({stated} > {limits.max_pages})")

    sections: list[Section] = []
    heading: str | None = None
    title: str | None = None
    page = 1
    buffer: list[str] = []
    buffer_page = 1
    tables = 0

    def flush() -> None:
        text = "\n\n".join(buffer).strip()
        if text:
            sections.append(Section(text=text, heading=heading,
                                    page=buffer_page if paged else None))
        buffer.clear()

    def add(text: str) -> None:
        nonlocal buffer_page
        if buffer and page != buffer_page:
            flush()
        if not buffer:
            buffer_page = page
        buffer.append(text)

    for element in _blocks(body):
        if element.tag == f"{_W}tbl":
            flush()
            tables += 1
            rows = _table_rows(element)
            sections.extend(simple_table_sections(rows, f"Table {tables}", heading=heading,
                                                  page=page if paged else None))
            if paged:
                page += _page_breaks(element)
            continue
        # A paragraph is cited on the page it starts on; breaks inside it count after it.
        breaks = _page_breaks(element) if paged else 0
        text = _paragraph_text(element).strip()
        if text and _is_heading(element, style_names):
            flush()
            heading = " ".join(text.split())[:200]
            if title is None and (style_names.get(_style_id(element), "") or "").lower() == "title":
                title = heading
            add(text)
        elif text:
            add(f"- {text}" if _is_list_item(element, style_names) else text)
        for box in _text_boxes(element):
            add(box)
        if breaks:
            page += breaks
            if page > limits.max_pages:
                raise UnreadableDocument(f"too many pages (over {limits.max_pages})")
    flush()
    try:
        core_title = (document.core_properties.title or "").strip()
    except Exception:  # noqa: BLE001
        core_title = ""
    if re.match(r"^(word document|document\d*|microsoft word - .*)$", core_title, re.IGNORECASE):
        core_title = ""  # a default Word fills in, not a title a person gave the file
    return ParsedDocument(kind="docx", title=core_title or title, sections=sections,
                          page_count=page if paged else None)
