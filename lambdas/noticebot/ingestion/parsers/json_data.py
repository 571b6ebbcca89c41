"""JSON and NDJSON (JSON Lines) -> readable ``path: value`` text, arrays of records as tables.

Raw JSON embeds badly: braces, quotes and keys far from their values. Flattened, each value sits
on a line with its full path ("venue.address.city: Leeds"), which reads as a fact and keeps its
context when the chunker splits between lines. An array of objects (an export of members,
events, products) is a table in disguise: it becomes row records that keep their keys and are
chunked like a spreadsheet, cited as "events records 3-9". NDJSON files are read line by line,
each line a record cited by its line number; lines that are not JSON (a truncated last line)
are skipped, and only a file with no readable line fails.

Jupyter notebooks (.ipynb) are JSON too, but their text is the cells' source: they are read as
cells, grouped under their Markdown headings.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import PurePosixPath

from noticebot.domain.errors import UnreadableDocument
from noticebot.ingestion.parsed import ParsedDocument, ParseLimits, Section, Table
from noticebot.ingestion.tables import RowBudget, clean_cell, format_value, table_sections
from noticebot.ingestion.textdecode import decode_text

_MAX_DEPTH = 64
_NDJSON_SUFFIXES = {".ndjson", ".jsonl", ".ldjson"}
_LINES_PER_SECTION = 60


def _scalar(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return clean_cell(value)
    return format_value(value)


def _is_scalar(value: object) -> bool:
    return not isinstance(value, (dict, list))


def _is_records(value: object) -> bool:
    return (isinstance(value, list) and len(value) >= 2
            and all(isinstance(item, dict) and item for item in value))


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _flatten(value: object, path: str, depth: int = 0) -> Iterator[tuple[str, object]]:
    """(path, scalar text) pairs, or (path, list) for an array of records (a table)."""
    if depth > _MAX_DEPTH:
        yield path, clean_cell(json.dumps(value, ensure_ascii=False)[:2000])
    elif isinstance(value, dict):
        if not value and path:
            yield path, "{}"
        for key, item in value.items():
            yield from _flatten(item, _join(path, str(key)), depth + 1)
    elif isinstance(value, list):
        if not value:
            if path:
                yield path, "[]"
        elif all(_is_scalar(item) for item in value):
            yield path, ", ".join(_scalar(item) for item in value)
        elif _is_records(value) and depth > 0:
            yield path, value
        else:
            for index, item in enumerate(value):
                yield from _flatten(item, f"{path}[{index}]", depth + 1)
    else:
        yield path, _scalar(value)


def _record_table(records: list[tuple[int, object]], name: str, label: str,
                  budget: RowBudget) -> Table:
    """Records (number, value) as a table; nested values are flattened into dotted columns."""
    columns: dict[str, None] = {}
    flat: list[tuple[int, dict[str, str]]] = []
    for number, record in records:
        if isinstance(record, dict):
            row = {}
            for path, value in _flatten(record, ""):
                if isinstance(value, list):  # records nested in a record: keep them readable
                    value = "; ".join(
                        ", ".join(f"{p}: {v}" for p, v in _flatten(item, "") if isinstance(v, str))
                        for item in value)
                row[path or "value"] = value
        else:
            row = {"value": ", ".join(str(v) for _, v in _flatten(record, "value"))}
        budget.add(len(row))
        columns.update(dict.fromkeys(row))
        flat.append((number, row))
    names = list(columns)
    rows = [(number, [row.get(column, "") for column in names]) for number, row in flat]
    # Records with different keys make a sparse table; its full column list would bury the
    # values, and every record names its keys anyway.
    widths = [len(row) for _, row in flat]
    uniform = bool(widths) and len(names) <= 1.5 * (sum(widths) / len(widths))
    return Table(name=name, columns=names, rows=rows, row_label=label, show_columns=uniform)


def _sections(value: object, budget: RowBudget) -> list[Section]:
    if _is_records(value):
        table = _record_table(list(enumerate(value, 1)), "", "records", budget)
        return table_sections(table)
    sections: list[Section] = []
    lines: list[str] = []

    def flush() -> None:
        if lines:
            sections.append(Section(text="\n".join(lines)))
            lines.clear()

    for path, item in _flatten(value, ""):
        if isinstance(item, list):
            flush()
            table = _record_table(list(enumerate(item, 1)), path, "records", budget)
            sections.extend(table_sections(table, heading=path))
            continue
        budget.add(1)
        lines.append(f"{path}: {item}" if path else str(item))
        if len(lines) >= _LINES_PER_SECTION * 10:
            flush()
    flush()
    return sections


def _ndjson(text: str, budget: RowBudget) -> list[Section]:
    records: list[tuple[int, object]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append((number, json.loads(line)))
        except (ValueError, RecursionError):
            continue  # a truncated or garbled line; the others still count
    if not records:
        raise UnreadableDocument("invalid JSON Lines file: no line holds a JSON value")
    return table_sections(_record_table(records, "", "lines", budget))


def _notebook(value: dict) -> list[Section]:
    sections: list[Section] = []
    heading: str | None = None
    parts: list[str] = []
    first = 0

    def flush(last: int) -> None:
        text = "\n\n".join(parts).strip()
        if text:
            where = f"cell {first}" if first == last else f"cells {first}-{last}"
            sections.append(Section(text=text, heading=heading, location=where))
        parts.clear()

    for number, cell in enumerate(value.get("cells") or [], 1):
        if not isinstance(cell, dict):
            continue
        source = cell.get("source") or ""
        source = "".join(source) if isinstance(source, list) else str(source)
        if not source.strip():
            continue
        if cell.get("cell_type") == "markdown" and source.lstrip().startswith("#"):
            flush(number - 1)
            heading = source.lstrip().splitlines()[0].lstrip("#").strip() or heading
            first = number
        if not parts:
            first = number
        parts.append(source)
        last = number
    if parts:
        flush(last)
    return sections


def parse(data: bytes, filename: str, limits: ParseLimits) -> ParsedDocument:
    text = decode_text(data)
    suffix = PurePosixPath(filename.replace("\\", "/")).suffix.lower()
    budget = RowBudget(limits, what="records")
    title = None
    try:
        if suffix in _NDJSON_SUFFIXES:
            sections = _ndjson(text, budget)
        else:
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                if exc.msg != "Extra data":
                    raise UnreadableDocument(
                        f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
                    ) from exc
                sections = _ndjson(text, budget)  # several values: JSON Lines named .json
            else:
                if isinstance(value, dict) and "cells" in value and "nbformat" in value:
                    sections = _notebook(value)
                    title = ((value.get("metadata") or {}).get("title")
                             if isinstance(value.get("metadata"), dict) else None)
                else:
                    sections = _sections(value, budget)
    except RecursionError as exc:
        raise UnreadableDocument("JSON nested too deeply to read") from exc
    if not sections:
        raise UnreadableDocument("JSON file holds no data (empty object or array)")
    return ParsedDocument(kind="json", title=title if isinstance(title, str) else None,
                          sections=sections)
