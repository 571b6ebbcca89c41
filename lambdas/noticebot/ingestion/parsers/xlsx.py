"""Excel .xlsx/.xlsm via openpyxl: every sheet, formulas as their cached values.

``read_only=True`` streams rows instead of building the whole workbook in memory, and
``data_only=True`` returns the value Excel last calculated for a formula cell rather than the
formula text ("=SUM(B2:B9)" answers nothing; 1,240 does). A workbook saved by a tool that never
calculated has no cached values; those cells read as empty.

Sheets are read in workbook order, hidden ones too (their data is still the user's data).
Row numbers are the spreadsheet's own, so "Sheet 'Budget' rows 2-41" can be found in Excel.
Password-protected workbooks are OLE containers, recognised by detect.py before this runs.
"""

from __future__ import annotations

import io
import time
import zipfile

from noticebot.domain.errors import UnreadableDocument
from noticebot.ingestion.parsed import ParsedDocument, ParseLimits, Section
from noticebot.ingestion.tables import RowBudget, clean_cell, format_value, grid_sections


def _text(cell) -> str:
    value = getattr(cell, "value", None)
    if value is None:
        return ""
    if isinstance(value, str):
        return clean_cell(value)
    fmt = getattr(cell, "number_format", "") or ""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and fmt.endswith("%"):
        return format_value(round(value * 100, 10)) + "%"
    return format_value(value)


def _corrupt(exc: BaseException) -> UnreadableDocument:
    detail = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
    return UnreadableDocument(f"corrupt or truncated Excel workbook (.xlsx): {detail}")


def parse(data: bytes, filename: str, limits: ParseLimits) -> ParsedDocument:
    import openpyxl  # imported on first use: a Lambda that never sees a workbook skips it
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError,
            OSError, EOFError, IndexError, AttributeError) as exc:
        raise _corrupt(exc) from exc
    except Exception as exc:  # noqa: BLE001 - XML errors from a damaged part
        raise _corrupt(exc) from exc
    budget = RowBudget(limits)
    started = time.monotonic()
    sections: list[Section] = []
    try:
        for sheet in workbook.worksheets:
            if not hasattr(sheet, "iter_rows"):
                continue  # a chart sheet
            if hasattr(sheet, "reset_dimensions"):
                sheet.reset_dimensions()  # stored dimensions are often wrong; read what is there
            rows: list[tuple[int, list[str]]] = []
            number = 0
            for row in sheet.iter_rows():
                number = next((c.row for c in row if getattr(c, "row", None)), number + 1)
                cells = [_text(cell) for cell in row]
                while cells and not cells[-1]:
                    cells.pop()
                if cells:
                    budget.add(len(cells))
                    rows.append((number, cells))
                if number % 2000 == 0 and limits.max_seconds is not None and \
                        time.monotonic() - started > limits.max_seconds:
                    raise UnreadableDocument(
                        f"Excel workbook took too long to read (over {limits.max_seconds:.0f} s, "
                        f"at row {number:,} of sheet '{sheet.title}')")
            sections.extend(grid_sections(rows, name=f"Sheet '{sheet.title}'",
                                          heading=sheet.title, letters=True))
    except UnreadableDocument:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged sheet part surfaces while streaming
        raise _corrupt(exc) from exc
    finally:
        workbook.close()
    title = None
    try:
        title = clean_cell(workbook.properties.title or "") or None
    except Exception:  # noqa: BLE001
        pass
    if not sections:
        raise UnreadableDocument("Excel workbook has no data: every sheet is empty")
    return ParsedDocument(kind="xlsx", title=title, sections=sections)
