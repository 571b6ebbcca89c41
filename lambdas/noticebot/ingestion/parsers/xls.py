"""Legacy Excel .xls (BIFF, Excel 97-2003) via xlrd: every sheet, formulas as cached values.

xlrd 2 reads only this format (not .xlsx), which is exactly what it is used for here. Dates are
stored as numbers with a date format; xlrd reports them as XL_CELL_DATE and they are converted
with the workbook's date mode (1900 or 1904). Encrypted workbooks fail as password protected.
"""

from __future__ import annotations

import io
import time

from noticebot.domain.errors import UnreadableDocument
from noticebot.ingestion.parsed import ParsedDocument, ParseLimits, Section
from noticebot.ingestion.tables import RowBudget, clean_cell, format_value, grid_sections


def _text(cell, datemode: int) -> str:
    import xlrd

    kind, value = cell.ctype, cell.value
    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return ""
    if kind == xlrd.XL_CELL_TEXT:
        return clean_cell(value)
    if kind == xlrd.XL_CELL_DATE:
        try:
            return format_value(xlrd.xldate_as_datetime(value, datemode))
        except Exception:  # noqa: BLE001 - an out-of-range date is still a number
            return format_value(value)
    if kind == xlrd.XL_CELL_BOOLEAN:
        return "TRUE" if value else "FALSE"
    if kind == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(value, "#ERROR")
    return format_value(value)


def parse(data: bytes, filename: str, limits: ParseLimits) -> ParsedDocument:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True, logfile=io.StringIO())
    except Exception as exc:  # noqa: BLE001 - xlrd raises XLRDError, CompDocError, struct.error...
        message = str(exc).strip()
        if "encrypt" in message.lower():
            raise UnreadableDocument(
                "password protected Excel workbook (.xls): upload a copy saved without a password"
            ) from exc
        detail = message.splitlines()[0][:120] if message else type(exc).__name__
        raise UnreadableDocument(f"corrupt or truncated Excel workbook (.xls): {detail}") from exc
    budget = RowBudget(limits)
    started = time.monotonic()
    sections: list[Section] = []
    try:
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)
            rows: list[tuple[int, list[str]]] = []
            for r in range(sheet.nrows):
                cells = [_text(cell, book.datemode) for cell in sheet.row(r)]
                while cells and not cells[-1]:
                    cells.pop()
                if cells:
                    budget.add(len(cells))
                    rows.append((r + 1, cells))
                if r % 2000 == 1999 and limits.max_seconds is not None and \
                        time.monotonic() - started > limits.max_seconds:
                    raise UnreadableDocument(
                        f"Excel workbook took too long to read (over {limits.max_seconds:.0f} s)")
            sections.extend(grid_sections(rows, name=f"Sheet '{sheet.name}'", heading=sheet.name,
                                          letters=True))
            book.unload_sheet(index)
    except UnreadableDocument:
        raise
    except Exception as exc:  # noqa: BLE001
        detail = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
        raise UnreadableDocument(f"corrupt or truncated Excel workbook (.xls): {detail}") from exc
    finally:
        book.release_resources()
    if not sections:
        raise UnreadableDocument("Excel workbook has no data: every sheet is empty")
    return ParsedDocument(kind="xls", title=None, sections=sections)
