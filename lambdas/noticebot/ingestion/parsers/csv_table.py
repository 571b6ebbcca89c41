"""CSV and TSV via the stdlib csv module: every record keeps its headers (see ingestion/tables).

- Encoding is detected, not assumed: UTF-8/16/32 by BOM or pattern, then charset-normalizer for
  legacy encodings (a Shift-JIS export from Japanese Excel must not become mojibake).
- The dialect (delimiter, quoting) is sniffed from the first 64 KB among , ; TAB and |, since
  European Excel writes semicolons; when sniffing fails the name decides (.tsv = tab).
- The csv module refuses fields over 128 KiB by default; real exports (a notes column, an
  embedded document) exceed that, so the limit is raised to ``ParseLimits.max_field_chars`` and
  a field beyond even that fails with its own message instead of a csv.Error.
- Rows are counted against ``max_rows``/``max_cells`` and the time budget while reading.
"""

from __future__ import annotations

import csv
import io
import time
from pathlib import PurePosixPath

from noticebot.domain.errors import UnreadableDocument
from noticebot.ingestion.parsed import ParsedDocument, ParseLimits
from noticebot.ingestion.tables import RowBudget, clean_cell, grid_sections
from noticebot.ingestion.textdecode import decode_detected

_SNIFF_CHARS = 65_536
_DELIMITERS = ",;\t|"


class _Dialect(csv.Dialect):
    delimiter = ","
    quotechar = '"'
    doublequote = True
    skipinitialspace = False
    lineterminator = "\n"
    quoting = csv.QUOTE_MINIMAL
    strict = False


def _dialect(text: str, tab_default: bool) -> type[csv.Dialect]:
    sample = text[:_SNIFF_CHARS]
    if len(text) > _SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]  # never sniff a cut-off last line
    delimiter = "\t" if tab_default else ","
    skip = False
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=_DELIMITERS)
        delimiter, skip = sniffed.delimiter, bool(sniffed.skipinitialspace)
    except csv.Error:
        # No consistent delimiter: a single-column file, or one the sniffer cannot judge. The
        # most frequent candidate on the first line is still a better guess than none.
        first = sample.split("\n", 1)[0]
        counts = {d: first.count(d) for d in _DELIMITERS}
        best = max(counts, key=counts.get)
        if counts[best] and not tab_default:
            delimiter = best
    return type("Sniffed", (_Dialect,), {"delimiter": delimiter, "skipinitialspace": skip})


def parse(data: bytes, filename: str, limits: ParseLimits) -> ParsedDocument:
    tab = PurePosixPath(filename.replace("\\", "/")).suffix.lower() in (".tsv", ".tab")
    text = decode_detected(data)
    if text.startswith("\ufeff"):
        text = text[1:]
    dialect = _dialect(text, tab)
    kind = "tsv" if dialect.delimiter == "\t" else "csv"
    csv.field_size_limit(max(limits.max_field_chars, 131_072))  # process-wide; same value always
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    budget = RowBudget(limits)
    started = time.monotonic()
    rows: list[tuple[int, list[str]]] = []
    number = 0
    try:
        for number, record in enumerate(reader, 1):
            cells = [clean_cell(cell) for cell in record]
            while cells and not cells[-1]:
                cells.pop()
            if cells:
                budget.add(len(cells))
            rows.append((number, cells))
            if number % 2000 == 0 and limits.max_seconds is not None and \
                    time.monotonic() - started > limits.max_seconds:
                raise UnreadableDocument(
                    f"{kind.upper()} took too long to read (over {limits.max_seconds:.0f} s at "
                    f"row {number:,})")
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise UnreadableDocument(
                f"{kind.upper()} field too large: a field in row {number + 1:,} is over "
                f"{limits.max_field_chars:,} characters (limit)") from exc
        raise UnreadableDocument(
            f"malformed {kind.upper()} near line {reader.line_num:,}: {exc}") from exc
    sections = grid_sections(rows, name="", heading=None)
    if not sections:
        raise UnreadableDocument(f"{kind.upper()} file has no data rows")
    return ParsedDocument(kind=kind, title=None, sections=sections)
