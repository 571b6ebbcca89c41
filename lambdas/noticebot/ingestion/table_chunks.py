"""Table sections -> chunks of whole row records (``chunking.chunk_sections`` calls it).

Each chunk starts with a line naming the table and its row range (and the table's title), then
the header line, then whole records, within the token cap; rows are atomic, so there is no
overlap, and each chunk's location is its own row range. A row too wide for one chunk is split
by columns, each part still carrying its column names; a single cell too long for a chunk is
split like running text.
"""

from __future__ import annotations

from noticebot.ingestion.parsed import Table
from noticebot.ingestion.tables import record_text, rows_heading, rows_location
from noticebot.ingestion.text_split import CountTokens, split_text


def _columns_line(table: Table, count: CountTokens, max_tokens: int) -> str:
    if not table.show_columns:
        return ""
    line = f"Columns: {' | '.join(table.columns)}"
    if len(line.split()) > max_tokens // 5 or count(line) > max_tokens // 5:
        return ""  # too wide to repeat; every record still names its columns
    return line


def table_chunks(table: Table, count: CountTokens, max_tokens: int) -> list[tuple[str, str]]:
    """(text, location) chunks of whole records, each headed by the table name and row range
    and the columns line, each within ``max_tokens``; a row that cannot fit is split by
    columns (see ``_wide_row``)."""
    columns = _columns_line(table, count, max_tokens)
    records = [(n, record_text(table.columns, cells)) for n, cells in table.rows]
    records = [(n, r) for n, r in records if r]
    tokens: dict[int, int | None] = {}

    def record_tokens(i: int) -> int | None:
        if i not in tokens:
            text = records[i][1]
            tokens[i] = None if len(text.split()) > max_tokens else count(text)
        return tokens[i]

    def build(i: int, j: int) -> str:
        head = rows_heading(table, records[i][0], records[j - 1][0])
        return "\n".join([head] + ([columns] if columns else []) + [r for _, r in records[i:j]])

    out: list[tuple[str, str]] = []
    i = 0
    last = records[-1][0] if records else 0
    while i < len(records):
        head = rows_heading(table, records[i][0], last) + ("\n" + columns if columns else "")
        total = count(head) + 1
        j = i
        while j < len(records):
            tok = record_tokens(j)
            if tok is None or total + tok > max_tokens:
                break
            total += tok
            j += 1
        text = build(i, j) if j > i else ""
        while j - i > 1 and count(text) > max_tokens:
            j -= 1
            text = build(i, j)
        if j == i or count(text) > max_tokens:
            out.extend(_wide_row(table, i, records, count, max_tokens))
            i += 1
            continue
        out.append((text, rows_location(table, records[i][0], records[j - 1][0])))
        i = j
    return out


def _wide_row(table: Table, i: int, records, count: CountTokens,
              max_tokens: int) -> list[tuple[str, str]]:
    """One row over the cap: parts of consecutive columns, each with its column names."""
    number = records[i][0]
    cells = dict(enumerate(table.rows[[n for n, _ in table.rows].index(number)][1]))
    pairs = [(index, f"{table.columns[index]}: {value}") for index, value in cells.items() if value]
    row = rows_location(table, number, number)
    out: list[tuple[str, str]] = []

    title = f" ({table.caption})" if table.caption else ""

    def emit(first: int, last: int, body: str) -> None:
        where = f"{row}, column {first + 1}" if first == last else (
            f"{row}, columns {first + 1}-{last + 1}")
        out.append((f"{where}{title}\n{body}", where))

    k = 0
    while k < len(pairs):
        first = pairs[k][0]
        head_tokens = count(f"{row}, columns {first + 1}-{len(table.columns)}{title}") + 2
        budget = max_tokens - head_tokens
        parts: list[str] = []
        used = 0
        m = k
        while m < len(pairs):
            text = pairs[m][1]
            tok = None if len(text.split()) > budget else count(text)
            if tok is None or used + tok + 1 > budget:
                break
            parts.append(text)
            used += tok + 1
            m += 1
        if m > k:
            body = "; ".join(parts)
            while m - k > 1 and count(
                    f"{row}, columns {first + 1}-{pairs[m - 1][0] + 1}{title}\n{body}") > max_tokens:
                m -= 1
                parts.pop()
                body = "; ".join(parts)
            emit(first, pairs[m - 1][0], body)
            if count(out[-1][0]) <= max_tokens:
                k = m
                continue
            out.pop()
            m = k
        # A single cell over the cap: its value is split like running text.
        column = table.columns[first]
        value = cells[first]
        label = f"{row}, column {first + 1}"
        margin = count(f"{label}{title}\n{column}: ") + 2
        limit = max(1, max_tokens - margin)
        while True:
            pieces = split_text(value, count, limit)
            texts = [f"{label}{title}\n{column}: {piece}" for piece in pieces]
            over = max((count(t) for t in texts), default=0) - max_tokens
            if over <= 0 or limit == 1:
                out.extend((t, label) for t in texts)
                break
            limit = max(1, limit - over - 1)
        k += 1
    return out
