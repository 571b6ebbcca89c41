"""Tables (CSV/TSV, Excel, JSON records): rows keep their headers, chunks repeat the header and
name the sheet and row range, profiles are indexed, limits fail with their own messages."""

from __future__ import annotations

import io
import re

import pytest

from noticebot.domain.errors import UnreadableDocument
from noticebot.ingestion import ParseLimits, chunk_sections, parse_document
from noticebot.ingestion.parsed import Section, Table
from noticebot.ingestion.table_chunks import table_chunks


def words(text: str) -> int:
    return len(text.split())


def table_drafts(doc, max_tokens=200):
    return [c for c in chunk_sections(doc.sections, words, max_tokens, 40)
            if c.location and "profile" not in c.location]


def _csv(rows: list[list[str]], delimiter: str = ",") -> bytes:
    return "\n".join(delimiter.join(row) for row in rows).encode()


# --- CSV / TSV ----------------------------------------------------------------------------

def test_csv_rows_become_records_that_keep_their_headers() -> None:
    data = _csv([["Room", "Capacity", "Step-free"], ["Main hall", "120", "yes"],
                 ["Vestry", "25", "no"]])
    doc = parse_document(data, "rooms.csv")
    assert doc.kind == "csv"
    chunks = table_drafts(doc)
    assert len(chunks) == 1
    assert chunks[0].location == "rows 2-3"
    assert chunks[0].text.splitlines() == [
        "rows 2-3", "Columns: Room | Capacity | Step-free",
        "Room: Main hall; Capacity: 120; Step-free: yes", "Room: Vestry; Capacity: 25; Step-free: no",
    ]


def test_table_profile_is_indexed_with_types_and_missing_values() -> None:
    data = _csv([["Name", "Paid", "Joined"], ["Ann", "12.50", "2024-01-03"], ["Bob", "", "2024-02-11"],
                 ["Cy", "7", "2023-12-30"]])
    doc = parse_document(data, "members.csv")
    profile = next(s for s in doc.sections if s.location and s.location.endswith("profile"))
    text = profile.text
    assert "3 rows, 3 columns" in text
    assert "Name: text; 0 missing" in text
    assert "Paid: number; 1 missing; min 7, max 12.5" in text
    assert "Joined: date; 0 missing; from 2023-12-30 to 2024-02-11" in text


def test_table_is_never_split_away_from_its_header() -> None:
    header = ["Date", "Event", "Room", "Contact"]
    rows = [[f"2024-03-{i % 28 + 1:02d}", f"Event number {i}", f"Room {i % 5}", f"person{i}@x.org"]
            for i in range(500)]
    doc = parse_document(_csv([header] + rows), "events.csv")
    chunks = table_drafts(doc, max_tokens=60)
    assert len(chunks) > 10
    covered = []
    for chunk in chunks:
        lines = chunk.text.splitlines()
        assert words(chunk.text) <= 60
        assert lines[0] == chunk.location and re.fullmatch(r"rows? \d+(-\d+)?", lines[0])
        assert lines[1] == "Columns: Date | Event | Room | Contact"
        for record in lines[2:]:
            assert all(f"{column}: " in record for column in header), record
        first, _, last = chunk.location.split(" ", 1)[1].partition("-")
        covered.extend(range(int(first), int(last or first) + 1))
    assert covered == list(range(2, 502))  # every row once, in order, no overlap


def test_a_row_too_wide_for_one_chunk_is_split_by_columns_with_its_headers() -> None:
    header = [f"Measure {i}" for i in range(80)]
    doc = parse_document(_csv([header, [str(i * 1.5) for i in range(80)]]), "wide.csv")
    chunks = table_drafts(doc, max_tokens=50)
    assert len(chunks) > 3
    seen = []
    for chunk in chunks:
        assert words(chunk.text) <= 50
        assert re.fullmatch(r"row 2, columns? \d+(-\d+)?", chunk.location)
        body = chunk.text.split("\n", 1)[1]
        seen.extend(re.findall(r"Measure (\d+): ", body))
    assert [int(n) for n in seen] == list(range(80))


def test_a_cell_too_long_for_one_chunk_is_split_as_text_still_named() -> None:
    table = Table(name="", columns=["Name", "Notes"],
                  rows=[(2, ["Ann", " ".join(f"word{i}" for i in range(400))])])
    chunks = table_chunks(table, words, 40)
    assert all(words(text) <= 40 for text, _ in chunks)
    notes = [text for text, where in chunks if where == "row 2, column 2"]
    assert len(notes) > 5 and all(text.split("\n")[1].startswith("Notes: ") for text in notes)
    joined = " ".join(text.split("Notes: ", 1)[1] for text in notes)
    assert joined.split() == [f"word{i}" for i in range(400)]


def test_csv_field_far_beyond_the_csv_module_default_limit() -> None:
    big = "lorem ipsum " * 100_000  # 1.2 MB in one field; the csv default limit is 128 KiB
    data = b'Title,Body\nMinutes,"' + big.encode() + b'"\n'
    doc = parse_document(data, "minutes.csv")
    assert doc.sections[0].table.rows[0][1][1].startswith("lorem ipsum lorem")
    with pytest.raises(UnreadableDocument, match=r"^CSV field too large: a field in row \d+ is "
                                                 r"over 1,000 characters"):
        parse_document(data, "minutes.csv", limits=ParseLimits(max_field_chars=1000))


def test_shift_jis_csv_is_decoded(corpus_bytes) -> None:
    doc = parse_document(corpus_bytes("markitdown/test_mskanji.csv"), "test_mskanji.csv")
    assert "名前: 佐藤太郎; 年齢: 30; 住所: 東京" in doc.text
    generated = "会場,定員\n公民館,120\n体育館,300\n".encode("shift_jis")
    assert "会場: 公民館; 定員: 120" in parse_document(generated, "会場.csv").text


def test_cp1252_csv_is_not_mistaken_for_another_code_page() -> None:
    data = "Dish,Price\nCrème brûlée,£5\nCafé au lait,£2\n".encode("cp1252")
    assert "Dish: Crème brûlée; Price: £5" in parse_document(data, "menu.csv").text


def test_dialects_are_sniffed(corpus_bytes) -> None:
    doc = parse_document(corpus_bytes("unstructured/table-semicolon-delimiter.csv"), "t.csv")
    assert "Year: 2023; Month: 2; Revenue: 143,1; Costs: -814,38" in doc.text
    doc = parse_document(corpus_bytes("unstructured/csv-with-line-delimiter.csv"), "p.csv")
    assert "col1: d; col2: e; col3: f" in doc.text
    tsv = _csv([["Team", "City"], ["Blues", "St. Louis, MO"]], "\t")
    doc = parse_document(tsv, "teams.tsv")
    assert doc.kind == "tsv" and "Team: Blues; City: St. Louis, MO" in doc.text


def test_title_row_above_the_header_becomes_the_caption(corpus_bytes) -> None:
    doc = parse_document(corpus_bytes("unstructured/stanley-cups.tsv"), "stanley-cups.tsv")
    chunk = table_drafts(doc)[0]
    assert chunk.location == "rows 3-5"
    assert chunk.text.startswith("rows 3-5 (Stanley Cups)\nColumns: Team | Location | Stanley Cups")


def test_too_many_rows_fails_with_its_own_message() -> None:
    data = _csv([["n"]] + [[str(i)] for i in range(50)])
    with pytest.raises(UnreadableDocument, match=r"^too many rows \(over 20 rows\)"):
        parse_document(data, "n.csv", limits=ParseLimits(max_rows=20))


# --- Excel ----------------------------------------------------------------------------------

def _xlsx_with_cached_formula() -> bytes:
    xlsxwriter = pytest.importorskip("xlsxwriter")  # writes cached formula results; openpyxl can't
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    budget = book.add_worksheet("Budget")
    budget.write_row(0, 0, ["Item", "Quantity", "Unit price", "Total"])
    for row, (item, qty, price) in enumerate([("Paint", 4, 12.5), ("Brushes", 10, 3)], 1):
        budget.write_row(row, 0, [item, qty, price])
        budget.write_formula(row, 3, f"=B{row + 1}*C{row + 1}", None, qty * price)
    members = book.add_worksheet("Members")
    members.write_row(0, 0, ["Name", "Role"])
    members.write_row(1, 0, ["Maria", "Treasurer"])
    members.write_row(2, 0, ["Sam", "Secretary"])
    book.close()
    return buffer.getvalue()


def test_xlsx_every_sheet_is_read_and_formulas_yield_cached_values() -> None:
    doc = parse_document(_xlsx_with_cached_formula(), "club.xlsx")
    chunks = table_drafts(doc)
    by_location = {c.location: c for c in chunks}
    assert set(by_location) == {"Sheet 'Budget' rows 2-3", "Sheet 'Members' rows 2-3"}
    budget = by_location["Sheet 'Budget' rows 2-3"]
    assert budget.heading == "Budget"
    assert "Item: Paint; Quantity: 4; Unit price: 12.5; Total: 50" in budget.text
    assert "Item: Brushes; Quantity: 10; Unit price: 3; Total: 30" in budget.text
    assert "=B2" not in doc.text
    assert "Name: Sam; Role: Secretary" in by_location["Sheet 'Members' rows 2-3"].text


def test_xlsx_chunk_carries_its_column_headers(corpus_bytes) -> None:
    doc = parse_document(corpus_bytes("markitdown/test.xlsx"), "test.xlsx")
    chunks = table_drafts(doc)
    sheets = {c.location.split(" rows")[0] for c in chunks}
    assert len(sheets) == 2  # both sheets of the workbook
    for chunk in chunks:
        assert chunk.text.startswith(chunk.location)
    first = next(c for c in chunks if c.location.startswith("Sheet 'Sheet1'"))
    assert "Columns: Alpha | Beta | Gamma | Delta" in first.text
    assert "Alpha: 89; Beta: 82; Gamma: 100; Delta: 12" in first.text


def test_spreadsheet_with_titles_and_several_tables_on_one_sheet(corpus_bytes) -> None:
    doc = parse_document(corpus_bytes("unstructured/vodafone.xlsx"), "vodafone.xlsx")
    chunk = next(c for c in table_drafts(doc) if c.location == "Sheet 'Index' rows 5-9")
    assert chunk.text.startswith("Sheet 'Index' rows 5-9 (Financial performance)")
    assert "Topic: Quarterly revenue; Period: Nine quarters to 30 June 2023; Page: 1" in chunk.text


def test_password_protected_xlsx_fails_as_password_protected(corpus_bytes) -> None:
    with pytest.raises(UnreadableDocument, match="^password protected"):
        parse_document(corpus_bytes("unstructured/password_protected.xlsx"), "secret.xlsx")


def test_truncated_xlsx_fails_as_corrupt(corpus_bytes) -> None:
    data = corpus_bytes("markitdown/test.xlsx")
    with pytest.raises(UnreadableDocument, match=r"^corrupt or truncated Excel workbook"):
        parse_document(data[: len(data) // 2], "test.xlsx")


def test_empty_workbook_fails_clearly(corpus_bytes) -> None:
    with pytest.raises(UnreadableDocument, match="every sheet is empty"):
        parse_document(corpus_bytes("unstructured/empty.xlsx"), "empty.xlsx")


def test_legacy_xls_every_sheet(corpus_bytes) -> None:
    doc = parse_document(corpus_bytes("markitdown/test.xls"), "test.xls")
    assert doc.kind == "xls"
    locations = {c.location for c in table_drafts(doc)}
    assert "Sheet 'Sheet1' rows 2-24" in locations and len(locations) == 2
    assert "Alpha: 89; Beta: 82; Gamma: 100; Delta: 12" in doc.text


def test_ods_sheets_are_read() -> None:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table as OdsTable
    from odf.table import TableCell, TableRow
    from odf.text import P

    ods = OpenDocumentSpreadsheet()
    sheet = OdsTable(name="Rota")
    for values in (["Day", "Volunteer"], ["Monday", "Ann"], ["Tuesday", "Bob"]):
        row = TableRow()
        for value in values:
            cell = TableCell()
            cell.addElement(P(text=value))
            row.addElement(cell)
        sheet.addElement(row)
    sheet.addElement(TableRow(numberrowsrepeated=1_000_000))  # Calc's padding: never expanded
    ods.spreadsheet.addElement(sheet)
    buffer = io.BytesIO()
    ods.write(buffer)
    doc = parse_document(buffer.getvalue(), "rota.ods")
    assert [c.location for c in table_drafts(doc)] == ["Sheet 'Rota' rows 2-3"]
    assert "Day: Tuesday; Volunteer: Bob" in doc.text


# --- JSON / NDJSON --------------------------------------------------------------------------

def test_json_paths_are_flattened_and_record_arrays_become_tables() -> None:
    data = b"""{"club": "Riverside Rowing", "venue": {"address": {"city": "Leeds", "zip": "LS1"}},
               "tags": ["rowing", "social"],
               "events": [{"name": "Regatta", "date": "2024-06-01", "fee": 10},
                          {"name": "AGM", "date": "2024-09-12", "fee": 0}]}"""
    doc = parse_document(data, "club.json")
    text = doc.text
    assert "club: Riverside Rowing" in text
    assert "venue.address.city: Leeds" in text
    assert "tags: rowing, social" in text
    events = next(c for c in table_drafts(doc) if c.location.startswith("events"))
    assert events.location == "events records 1-2"
    assert "name: AGM; date: 2024-09-12; fee: 0" in events.text


def test_top_level_array_of_records(corpus_bytes) -> None:
    doc = parse_document(corpus_bytes("unstructured/simple.json"), "simple.json")
    chunk = table_drafts(doc)[0]
    assert chunk.location.startswith("records 1-")
    assert "text: These are a few of my favorite things:" in chunk.text


def test_ndjson_lines_are_records(corpus_bytes) -> None:
    doc = parse_document(corpus_bytes("unstructured/arbitrary-records.ndjson"), "a.ndjson")
    chunk = table_drafts(doc)[0]
    assert chunk.location == "lines 1-3"
    assert "sku: GRD-1290; name: Watering Can; price: 18; in_stock: false" in chunk.text


def test_ndjson_skips_a_truncated_last_line_and_json_lines_named_json_work() -> None:
    data = b'{"a": 1, "b": "x"}\n{"a": 2, "b": "y"}\n{"a": 3, "b'
    assert "a: 2; b: y" in parse_document(data, "log.jsonl").text
    assert "a: 2; b: y" in parse_document(data[: data.rindex(b"\n")], "log.json").text


def test_invalid_and_too_deep_json_fail_clearly() -> None:
    with pytest.raises(UnreadableDocument, match=r"^invalid JSON: .* at line 1 column \d+"):
        parse_document(b'{"a": [1, 2,, 3]}', "bad.json")
    with pytest.raises(UnreadableDocument, match="^JSON nested too deeply"):
        parse_document(b"[" * 200_000 + b"]" * 200_000, "deep.json")
    with pytest.raises(UnreadableDocument, match="^JSON file holds no data"):
        parse_document(b"{}", "empty.json")


def test_notebook_cells_are_read(corpus_bytes) -> None:
    doc = parse_document(corpus_bytes("markitdown/test_notebook.ipynb"), "test_notebook.ipynb")
    assert doc.title == "Test Notebook Title"
    assert 'print("markitdown")' in doc.text


def test_every_corpus_table_file_chunks_within_the_cap(corpus) -> None:
    names = [p for p in corpus.rglob("*") if p.suffix.lower() in
             {".csv", ".tsv", ".xlsx", ".xls", ".json", ".ndjson"} and p.name != "MANIFEST.csv"]
    assert names
    for path in names:
        try:
            doc = parse_document(path.read_bytes(), path.name)
        except UnreadableDocument as exc:
            assert exc.message.strip(), path
            continue
        for chunk in chunk_sections(doc.sections, words, 64, 16):
            assert words(chunk.text) <= 64, (path, chunk.location)
            assert chunk.text.strip()


def test_table_section_without_rows_is_plain_text() -> None:
    doc = parse_document(b"Only,A,Header\n", "header.csv")
    assert doc.sections == [Section(text="Only | A | Header")]
