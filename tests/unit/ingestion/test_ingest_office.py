"""Word, PowerPoint, OpenDocument, RTF and e-mail, plus the zip-bomb guard for zip formats."""

from __future__ import annotations

import io
import zipfile

import pytest

from noticebot.domain.errors import UnreadableDocument
from noticebot.ingestion import ParseLimits, chunk_sections, parse_document


def words(text: str) -> int:
    return len(text.split())


def _docx() -> bytes:
    import docx

    document = docx.Document()
    document.core_properties.title = "Hall handbook"
    document.add_heading("Opening hours", level=1)
    document.add_paragraph("The hall opens at 08:00 and closes at 22:00 on Fridays.")
    document.add_paragraph("Keys are kept by the caretaker.", style="List Bullet")
    document.add_heading("Rooms", level=1)
    table = document.add_table(rows=3, cols=3)
    for r, values in enumerate([("Room", "Capacity", "Step-free"), ("Main hall", "120", "yes"),
                                ("Vestry", "25", "no")]):
        for c, value in enumerate(values):
            table.cell(r, c).text = value
    document.add_paragraph("Book rooms through the office.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_headings_paragraphs_and_tables_as_rows() -> None:
    doc = parse_document(_docx(), "handbook.docx")
    assert doc.kind == "docx" and doc.title == "Hall handbook"
    chunks = chunk_sections(doc.sections, words, 200, 40)
    opening = next(c for c in chunks if "08:00" in c.text)
    assert opening.heading == "Opening hours"
    assert "- Keys are kept by the caretaker." in opening.text
    rows = next(c for c in chunks if c.location == "Table 1 rows 2-3")
    assert rows.heading == "Rooms"
    assert rows.text.splitlines() == [
        "Table 1 rows 2-3", "Columns: Room | Capacity | Step-free",
        "Room: Main hall; Capacity: 120; Step-free: yes", "Room: Vestry; Capacity: 25; Step-free: no",
    ]
    assert any(c.location == "Table 1 rows 2-3, profile" for c in chunks)
    after = next(c for c in chunks if "Book rooms" in c.text)
    assert after.heading == "Rooms" and after.location is None


def test_word_table_survives_as_rows_in_corpus_files(corpus_bytes) -> None:
    doc = parse_document(corpus_bytes("unstructured/fake_table.docx"), "fake_table.docx")
    assert "Header Col 1: Lorem ipsum; Header Col 2: A Link example" in doc.text
    doc = parse_document(corpus_bytes("unstructured/tables-with-incomplete-rows.docx"), "t.docx")
    assert "a: c; b: d" in doc.text


def test_docx_content_controls_and_rendered_page_numbers(corpus_bytes) -> None:
    doc = parse_document(corpus_bytes("python-docx/blk-inner-content.docx"), "b.docx")
    assert [s.text for s in doc.sections][:1] == ["P1"] and "P3" in doc.text
    doc = parse_document(corpus_bytes("unstructured/page-breaks.docx"), "page-breaks.docx")
    assert doc.page_count == 5
    pages = [s.page for s in doc.sections]
    assert pages == sorted(pages) and pages[0] == 1 and all(1 <= p <= 5 for p in pages)


def test_docx_without_rendered_breaks_claims_no_pages(corpus_bytes) -> None:
    doc = parse_document(corpus_bytes("unstructured/handbook-1p-no-rendered-page-breaks.docx"),
                         "h.docx")
    assert doc.page_count is None and all(s.page is None for s in doc.sections)


def test_legacy_doc_names_the_fix(corpus_bytes) -> None:
    with pytest.raises(UnreadableDocument, match=r"\.doc\).*save as \.docx"):
        parse_document(corpus_bytes("unstructured/duplicate-paragraphs.doc"), "d.doc")


def test_corrupt_docx_fails_clearly() -> None:
    data = _docx()
    with pytest.raises(UnreadableDocument, match=r"^corrupt or truncated Word document"):
        parse_document(data[: len(data) // 2], "cut.docx")


def _pptx() -> bytes:
    from pptx import Presentation
    from pptx.util import Inches

    presentation = Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[1])
    slide.shapes.title.text = "Spring fair"
    slide.placeholders[1].text = "Saturday 4 May on the green"
    slide.notes_slide.notes_text_frame.text = "Remind people to bring cash."
    slide = presentation.slides.add_slide(presentation.slide_layouts[5])
    slide.shapes.title.text = "Stalls"
    table = slide.shapes.add_table(3, 2, Inches(1), Inches(2), Inches(6), Inches(2)).table
    for r, values in enumerate([("Stall", "Owner"), ("Cakes", "Ann"), ("Books", "Bob")]):
        for c, value in enumerate(values):
            table.cell(r, c).text = value
    buffer = io.BytesIO()
    presentation.save(buffer)
    return buffer.getvalue()


def test_pptx_slides_are_pages_with_titles_notes_and_tables() -> None:
    doc = parse_document(_pptx(), "fair.pptx")
    assert doc.kind == "pptx" and doc.page_count == 2
    chunks = chunk_sections(doc.sections, words, 200, 40)
    first = next(c for c in chunks if c.location == "slide 1")
    assert first.page == 1 and first.heading == "Spring fair"
    assert "Saturday 4 May" in first.text and "Notes: Remind people to bring cash." in first.text
    stalls = next(c for c in chunks if c.location == "Slide 2 table rows 2-3")
    assert stalls.page == 2 and "Stall: Books; Owner: Bob" in stalls.text


def test_pptx_corpus_and_picture_only_decks(corpus_bytes) -> None:
    doc = parse_document(corpus_bytes("unstructured/sample-presentation.pptx"), "s.pptx")
    assert doc.page_count == 4 and "This is the first content slide" in doc.text
    with pytest.raises(UnreadableDocument, match="no readable text on any slide"):
        parse_document(corpus_bytes("unstructured/picture.pptx"), "picture.pptx")


def test_odt_and_rtf(corpus_bytes) -> None:
    doc = parse_document(corpus_bytes("unstructured/simple.odt"), "simple.odt")
    assert doc.kind == "odt" and "This is my first thought." in doc.text
    assert doc.sections[0].heading == "These are a few of my favorite things:"
    doc = parse_document(corpus_bytes("unstructured/fake-doc.rtf"), "fake-doc.rtf")
    assert "My first paragraph." in doc.text
    assert "Column 1: Row 2, Cell 1; Column 2: Row 2, Cell 2" in doc.text


def test_password_protected_odt_fails_as_password_protected() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", b"\x8a\x01encrypted bytes")
        archive.writestr("META-INF/manifest.xml", '<manifest:manifest><manifest:file-entry '
                         'manifest:full-path="content.xml"><manifest:encryption-data/>'
                         '</manifest:file-entry></manifest:manifest>')
    with pytest.raises(UnreadableDocument, match="^password protected OpenDocument text"):
        parse_document(buffer.getvalue(), "locked.odt")


# --- e-mail ---------------------------------------------------------------------------------

def test_eml_headers_body_and_attachments(corpus_bytes) -> None:
    doc = parse_document(corpus_bytes("unstructured/eml/fake-email-attachment.eml"), "a.eml")
    assert doc.kind == "email" and doc.title == "Fake email with attachment"
    text = doc.text
    assert "From: Mallori Harrell <mallori@unstructured.io>" in text
    assert "Subject: Fake email with attachment" in text and "Date: Fri, 23 Dec 2022" in text
    assert "Here's the attachments!" in text
    assert "Attachments: fake-attachment.txt (text/plain, 30 bytes)" in text


def test_eml_html_only_utf16_and_encrypted(corpus_bytes) -> None:
    doc = parse_document(corpus_bytes("unstructured/eml/mime-html-only.eml"), "h.eml")
    assert "This is a text/html part." in doc.text and "<p>" not in doc.text
    doc = parse_document(corpus_bytes("unstructured/eml/fake-email-utf-16-le.eml"), "u.eml")
    assert "Roses are red" in doc.text
    with pytest.raises(UnreadableDocument, match="^encrypted e-mail"):
        parse_document(corpus_bytes("unstructured/eml/fake-encrypted.eml"), "e.eml")


def test_eml_encoded_headers_and_charsets() -> None:
    data = ("From: =?utf-8?q?Ren=C3=A9e?= <r@example.org>\r\nTo: club@example.org\r\n"
            "Subject: =?iso-8859-1?q?R=E9union_du_comit=E9?=\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=iso-8859-1\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
            "La r=E9union est =E0 18h.\r\n").encode("ascii")
    doc = parse_document(data, "note.eml")
    assert doc.title == "Réunion du comité"
    assert "From: Renée <r@example.org>" in doc.text and "La réunion est à 18h." in doc.text


# --- decompression bombs ------------------------------------------------------------------

def _bomb(megabytes: int = 200) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            block = b"\0" * (1 << 20)
            for _ in range(megabytes):
                member.write(block)
    return buffer.getvalue()


def test_zip_bomb_is_refused_from_the_directory() -> None:
    data = _bomb()
    assert len(data) < 1_000_000  # a small upload...
    with pytest.raises(UnreadableDocument,
                       match=r"^refused as a possible decompression bomb: 'word/document.xml' "
                             r"inside the Word document \(\.docx\) expands [\d,]+ times to 200 MB"):
        parse_document(data, "innocent.docx")


def test_zip_total_size_and_entry_count_limits() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        for i in range(30):
            archive.writestr(f"xl/worksheets/sheet{i}.xml", "<x/>" * 1000)
    data = buffer.getvalue()
    with pytest.raises(UnreadableDocument, match=r"holds 31 files inside \(limit 20\)"):
        parse_document(data, "many.xlsx", limits=ParseLimits(max_zip_entries=20))
    with pytest.raises(UnreadableDocument, match=r"expands to 0 MB \(limit 0 MB\)"):
        parse_document(data, "many.xlsx", limits=ParseLimits(max_unzipped_bytes=50_000))
