"""Tables (spreadsheets, CSV, JSON records, Word/PowerPoint tables) -> table sections.

A row alone ("12 | 4 | yes") means nothing to a reader or an embedder; with its headers
("Name: Hall; Capacity: 120; Step-free: yes") it answers questions. So every row becomes a
record that keeps its column names, and a table becomes a section carrying the ``Table``
itself, which ``ingestion.table_chunks`` packs into chunks that name the table and row range
and repeat the header line, so a citation can say "Sheet 'Budget' rows 2-41".

Each table also gets a profile section (columns, inferred types, missing values, row count,
ranges) so questions about the table as a whole ("which columns", "how many rows") find it.

Spreadsheets are messy: a title above the header, blank spacer rows, several tables on one
sheet, empty leading columns. ``grid_sections`` finds the header row of each block of rows,
keeps title lines as the table's caption, and continues a table across blank rows when the rows
after the gap look like data rather than a new header.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from noticebot.domain.errors import UnreadableDocument
from noticebot.ingestion.parsed import ParseLimits, Section, Table

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_SPACES = re.compile(r"\s+")
_MAX_HEADER_CHARS = 80
_MAX_CAPTION_CHARS = 120

_INTEGER = re.compile(r"^[-+]?(\d{1,3}(,\d{3})+|\d+)$")
_NUMBER = re.compile(r"^[-+(]?[$€£¥]?\s?(\d+([.,' ]\d+)*|\d*[.,]\d+)([eE][-+]?\d+)?\s?[%€$]?\)?$")
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?"
                   r"|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4})$")
_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(,\d{3})+$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_BOOLEAN = {"true", "false"}


# --- cell values ---------------------------------------------------------------------------

def clean_cell(text: str) -> str:
    """One cell as one line: unicode-normalised, controls dropped, whitespace collapsed."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text).translate(_ZERO_WIDTH)
    return _SPACES.sub(" ", _CONTROLS.sub(" ", text)).strip()


def format_value(value: object) -> str:
    """A native cell value (openpyxl, xlrd, JSON) as the text a person would read."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return ""
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.15g}"
    if isinstance(value, decimal.Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    if isinstance(value, dt.datetime):
        if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds" if value.second else "minutes")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return clean_cell(str(value))


def _kind_of(value: str) -> str:
    low = value.lower()
    if low in _BOOLEAN:
        return "boolean"
    if _INTEGER.match(value):
        return "integer"
    if _NUMBER.match(value):
        return "number"
    if _DATE.match(value):
        return "date"
    return "text"


def _as_float(value: str) -> float | None:
    text = value.strip("()$€£¥% ").replace("'", "").replace(" ", "")
    if "," in text:
        if "." in text and text.rindex(",") > text.rindex("."):  # 1.234,5
            text = text.replace(".", "").replace(",", ".")
        elif "." in text or _THOUSANDS.match(text):  # 1,234.5 / 1,234
            text = text.replace(",", "")
        else:  # 143,1: a decimal comma
            text = text.replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        return None
    return -number if value.startswith("(") and value.endswith(")") else number


# --- records and rendering -----------------------------------------------------------------

def record_text(columns: Sequence[str], cells: Sequence[str]) -> str:
    """``Column: value; ...`` for the non-empty cells of one row."""
    return "; ".join(f"{column}: {value}" for column, value in zip(columns, cells) if value)


def render_table(table: Table) -> str:
    """The whole table as text (section text: previews, tests, the cleaner's emptiness check)."""
    lines = [f"Columns: {' | '.join(table.columns)}"] if table.show_columns else []
    lines.extend(record_text(table.columns, cells) for _, cells in table.rows)
    return "\n".join(line for line in lines if line)


def _span(label: str, first: int, last: int) -> str:
    if first == last:
        return f"{label[:-1] if label.endswith('s') else label} {first}"
    return f"{label} {first}-{last}"


def rows_location(table: Table, first: int, last: int) -> str:
    return " ".join(p for p in (table.name, _span(table.row_label, first, last)) if p)


def rows_heading(table: Table, first: int, last: int) -> str:
    """The first line of a chunk: where the rows are, and the table's title if it has one."""
    where = rows_location(table, first, last)
    return f"{where} ({table.caption})" if table.caption else where


def table_location(table: Table) -> str:
    """The whole table's location: its name and full row range."""
    if not table.rows:
        return table.name
    return rows_location(table, table.rows[0][0], table.rows[-1][0])


def profile_text(table: Table) -> str:
    """Columns, inferred types, filled/missing counts and ranges, as short lines."""
    rows = len(table.rows)
    head = f"Table profile of {table_location(table) or 'the table'}"
    if table.caption:
        head += f" ({table.caption})"
    width = len(table.columns)
    lines = [f"{head}: {rows} {table.row_label if rows != 1 else table.row_label.rstrip('s')}, "
             f"{width} column{'s' if width != 1 else ''}."]
    for index, column in enumerate(table.columns):
        values = [cells[index] for _, cells in table.rows if index < len(cells) and cells[index]]
        missing = rows - len(values)
        if not values:
            lines.append(f"{column}: empty in all {rows} rows")
            continue
        kinds = Counter(_kind_of(v) for v in values)
        if set(kinds) == {"integer", "number"}:
            kinds = Counter({"number": len(values)})
        kind, top = kinds.most_common(1)[0]
        if top < 0.9 * len(values):
            shares = ", ".join(f"{k} {100 * n // len(values)}%" for k, n in kinds.most_common(3))
            kind = f"mixed ({shares})"
        parts = [kind, f"{missing} missing"]
        if kind in ("integer", "number"):
            numbers = [n for n in map(_as_float, values) if n is not None]
            if numbers:
                parts.append(f"min {format_value(min(numbers))}, max {format_value(max(numbers))}")
        elif kind == "date":
            iso = sorted(v for v in values if _ISO_DATE.match(v))
            if iso:
                parts.append(f"from {iso[0]} to {iso[-1]}")
        else:
            distinct = Counter(values)
            parts.append(f"{len(distinct)} distinct")
            if len(distinct) <= 8 and all(len(v) <= 40 for v in distinct):
                parts.append("values: " + ", ".join(v for v, _ in distinct.most_common()))
        lines.append(f"{column}: " + "; ".join(parts))
    return "\n".join(lines)


def table_sections(table: Table, heading: str | None = None, page: int | None = None,
                   caption: str | None = None, profile: bool = True) -> list[Section]:
    """The row section of a table, then its profile section (none for an empty table)."""
    if not table.rows:
        return []
    if caption:  # printed at the top of every chunk, after the row range
        table.caption = caption
    sections = [Section(text=render_table(table), page=page, heading=heading,
                        location=table_location(table), table=table)]
    if profile:
        sections.append(Section(text=profile_text(table), page=page, heading=heading,
                                location=f"{table_location(table)}, profile"))
    return sections


def unique_headers(raw: Sequence[str], fallback: Callable[[int], str]) -> list[str]:
    """Header names that are non-empty, short enough to repeat, and distinct."""
    seen: Counter[str] = Counter()
    out = []
    for index, name in enumerate(raw):
        name = clean_cell(name)
        if len(name) > _MAX_HEADER_CHARS:
            name = name[:_MAX_HEADER_CHARS - 1].rstrip() + "…"
        name = name or fallback(index)
        seen[name] += 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA (spreadsheet column names)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# --- grids: spreadsheets and CSV -----------------------------------------------------------

class RowBudget:
    """Counts rows and cells across all tables of one document against ParseLimits."""

    def __init__(self, limits: ParseLimits, what: str = "rows"):
        self.limits = limits
        self.rows = 0
        self.cells = 0
        self.what = what

    def add(self, cells: int) -> None:
        self.rows += 1
        self.cells += cells
        if self.rows > self.limits.max_rows:
            raise UnreadableDocument(
                f"too many {self.what} (over {self.limits.max_rows:,} {self.what}); "
                "split the file into smaller ones")
        if self.cells > self.limits.max_cells:
            raise UnreadableDocument(
                f"too many cells (over {self.limits.max_cells:,}); split the file into smaller ones")


def _filled(cells: Sequence[str]) -> int:
    return sum(1 for c in cells if c)


def _header_like(cells: Sequence[str]) -> bool:
    values = [c for c in cells if c]
    return bool(values) and all(_kind_of(v) == "text" for v in values) and len(set(values)) == len(
        values)


def _blocks(rows: Iterable[tuple[int, list[str]]]) -> list[list[tuple[int, list[str]]]]:
    """Runs of non-blank rows; blank rows (or missing row numbers) separate them."""
    blocks: list[list[tuple[int, list[str]]]] = [[]]
    for number, cells in rows:
        if blocks[-1] and (not any(cells) or number != blocks[-1][-1][0] + 1):
            blocks.append([])
        if any(cells):
            blocks[-1].append((number, cells))
    return [b for b in blocks if b]


def grid_sections(rows: Iterable[tuple[int, list[str]]], name: str = "",
                  heading: str | None = None, letters: bool = False,
                  header_row: bool | None = None) -> list[Section]:
    """Sections for one sheet/CSV: each table's rows and profile, and any loose text lines.

    ``rows`` are (row number, cell texts); cells must already be ``format_value``/``clean_cell``
    output. ``header_row`` True/False forces whether the first row is a header; None guesses.
    """
    namer = (lambda i: f"Column {column_letter(i)}") if letters else (lambda i: f"Column {i + 1}")
    tables: list[dict] = []  # {"header": [...], "rows": [...], "caption": str|None}
    notes: list[tuple[int, str]] = []  # loose lines (titles, notes) that belong to no table

    for block in _blocks(rows):
        widest = max(_filled(cells) for _, cells in block)
        start = 0
        if header_row is None and widest > 1:
            # Title lines above the header are shorter than the table's widest row.
            while start < len(block) - 1 and _filled(block[start][1]) < max(2, (widest + 1) // 2):
                start += 1
        preamble = [" | ".join(c for c in cells if c) for _, cells in block[:start]]
        first = block[start][1]
        rest = block[start + 1:]
        current = tables[-1] if tables else None
        if header_row is None:
            is_header = _header_like(first) and (bool(rest) or not current)
        else:
            is_header = header_row and not tables
        if current is not None and not preamble:
            # Rows after a blank gap that look like data, or that repeat the header, continue
            # the table above; a new header-like row starts a new table.
            if not is_header:
                current["rows"].extend(block[start:])
                continue
            if [c for c in first if c] == [c for c in current["raw"] if c]:
                current["rows"].extend(rest)
                continue
        if is_header and not rest and current is None and header_row is None and len(block) == 1:
            notes.append((block[0][0], " | ".join(c for c in first if c)))
            continue
        caption = " ".join(preamble) or None
        if caption and len(caption) > _MAX_CAPTION_CHARS:
            notes.extend((n, " | ".join(c for c in cells if c)) for n, cells in block[:start])
            caption = None
        if is_header:
            tables.append({"raw": first, "rows": list(rest), "caption": caption})
        else:
            tables.append({"raw": [], "rows": list(block[start:]), "caption": caption})

    sections: list[Section] = []
    if notes:
        sections.append(Section(text="\n".join(text for _, text in notes), heading=heading,
                                location=name or None))
    for spec in tables:
        raw, body = spec["raw"], spec["rows"]
        width = max([len(raw)] + [len(cells) for _, cells in body])
        keep = [i for i in range(width)
                if (i < len(raw) and raw[i]) or any(i < len(c) and c[i] for _, c in body)]
        header = unique_headers([raw[i] if i < len(raw) else "" for i in keep],
                                lambda j: namer(keep[j]))
        data = [(n, [cells[i] if i < len(cells) else "" for i in keep]) for n, cells in body]
        data = [(n, cells) for n, cells in data if any(cells)]
        if not data:
            if any(raw):
                sections.append(Section(text=" | ".join(c for c in raw if c), heading=heading,
                                        location=name or None))
            continue
        table = Table(name=name, columns=header, rows=data, show_columns=bool(raw))
        sections.extend(table_sections(table, heading=heading, caption=spec["caption"]))
    return sections


def simple_table_sections(cells: list[list[str]], name: str, heading: str | None = None,
                          page: int | None = None) -> list[Section]:
    """A table from a document (Word, PowerPoint, ODT, HTML-like): the first row is the header.

    One-row or one-column tables are layout, not data: they become plain text lines.
    """
    cells = [row for row in ([clean_cell(c) for c in r] for r in cells) if any(row)]
    if not cells:
        return []
    width = max(len(r) for r in cells)
    if len(cells) < 2 or width < 2:
        text = "\n".join(" | ".join(c for c in row if c) for row in cells)
        return [Section(text=text, page=page, heading=heading, location=name)]
    header = unique_headers(cells[0] + [""] * (width - len(cells[0])),
                            lambda i: f"Column {i + 1}")
    rows = [(number, row + [""] * (width - len(row))) for number, row in enumerate(cells[1:], 2)]
    return table_sections(Table(name=name, columns=header, rows=rows), heading=heading, page=page)
