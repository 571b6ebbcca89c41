"""Kind detection (content before name) and lenient text decoding."""

from __future__ import annotations

import codecs
import io
import zipfile

import pytest

from noticebot.domain.errors import UnreadableDocument
from noticebot.ingestion import detect_kind, parse_document
from noticebot.ingestion.textdecode import decode_text, looks_like_text


@pytest.mark.parametrize(
    ("data", "name", "declared", "kind"),
    [
        (b"%PDF-1.7\n...", "notes.txt", "text/plain", "pdf"),
        (b"GPL Ghostscript 10\n%PDF-1.4\n", "x.pdf", None, "pdf"),  # junk before header
        (b"<html><body>404 Not Found</body></html>\n", "report.pdf", "application/pdf", "html"),
        (b"\xef\xbb\xbf  \n<!DOCTYPE html><p>x</p>", "page.txt", None, "html"),
        (b'<?xml version="1.0"?>\n<!-- c -->\n<html><body>x</body></html>', "a", None, "html"),
        (b'<?xml version="1.0"?><root/>', "data", None, "xml"),
        (b"## Heading\n\n```html\n<!DOCTYPE html>\n```", "codeblock.md", "text/html", "markdown"),
        (b"<div>fragment</div>", "frag.html", None, "html"),
        (b"just words", "README", None, "text"),
        (b"just words", "upload", "text/markdown", "markdown"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "scan.pdf", None, "image"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "photo.txt", None, "image"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "a.wav", None, "audio"),
        (b"ID3\x03\x00\x00\x00", "a.bin", None, "audio"),
        (b"fLaC\x00\x00\x00\x22", "a", None, "audio"),
        (b"{\\rtf1\\ansi hello}", "a.txt", None, "rtf"),
        (bytes(range(256)) * 8, "junk.txt", "text/plain", "unsupported"),
        (bytes(range(256)) * 8, "junk.docx", None, "docx"),  # damaged binary keeps its name
    ],
)
def test_detect_kind(data: bytes, name: str, declared: str | None, kind: str) -> None:
    assert detect_kind(data, name, declared) == kind


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_zip_containers_are_told_apart_by_members_not_names() -> None:
    docx = _zip({"[Content_Types].xml": b"<x/>", "word/document.xml": b"<w/>"})
    assert detect_kind(docx, "really-a-docx.doc", "application/msword") == "docx"
    assert detect_kind(_zip({"xl/workbook.xml": b"<x/>"}), "a.zip", None) == "xlsx"
    odt = _zip({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"})
    assert detect_kind(odt, "a", None) == "odt"
    assert detect_kind(_zip({"a.txt": b"hi"}), "bundle.zip", None) == "zip"


def test_corpus_docx_named_doc_is_docx(corpus_bytes) -> None:
    data = corpus_bytes("unstructured/language-docs/eng_spa_mult.doc")
    assert detect_kind(data, "eng_spa_mult.doc", "application/msword") == "docx"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("unstructured/duplicate-paragraphs.doc",
         "unsupported file type: legacy Word document (.doc); open it in Word or LibreOffice "
         "and save as .docx"),
        ("unstructured/fake-power-point.ppt",
         "unsupported file type: legacy PowerPoint presentation (.ppt); open it in PowerPoint"),
        # images and audio without an OCR engine / transcriber: tests/unit/ingestion/test_ingest_media.py
        ("pypdf/lzw_decoder_table_overflow.bin", "unsupported file type: not a recognised"),
        ("unstructured/password_protected.xlsx", "password protected Office document"),
    ],
)
def test_known_but_unsupported_kinds_fail_clearly(corpus_bytes, name: str, message: str) -> None:
    with pytest.raises(UnreadableDocument) as err:
        parse_document(corpus_bytes(name), name.rsplit("/", 1)[-1])
    assert err.value.message.startswith(message)


def test_zero_byte_file() -> None:
    with pytest.raises(UnreadableDocument, match=r"^file is empty \(0 bytes\)$"):
        parse_document(b"", "empty.pdf", "application/pdf")


def test_too_large_file() -> None:
    from noticebot.ingestion import ParseLimits

    with pytest.raises(UnreadableDocument, match=r"^file too large"):
        parse_document(b"x" * 2048, "a.txt", limits=ParseLimits(max_bytes=1024))


def test_whitespace_only_text_fails(corpus_bytes) -> None:
    with pytest.raises(UnreadableDocument, match="no readable text"):
        parse_document(corpus_bytes("unstructured/fake-text-all-whitespace.txt"), "a.txt")


@pytest.mark.parametrize(
    "encoded",
    [
        codecs.BOM_UTF8 + "Grüße, café".encode("utf-8"),
        codecs.BOM_UTF16_LE + "Grüße, café".encode("utf-16-le"),
        codecs.BOM_UTF16_BE + "Grüße, café".encode("utf-16-be"),
        codecs.BOM_UTF32_LE + "Grüße, café".encode("utf-32-le"),
        "Grüße, café".encode("utf-16-le"),  # no BOM: sniffed from the NUL pattern
        "Grüße, café".encode("utf-16-be"),
        "Grüße, café".encode("utf-8"),
        "Grüße, café".encode("cp1252"),
    ],
)
def test_decode_text_handles_common_encodings(encoded: bytes) -> None:
    assert decode_text(encoded) == "Grüße, café"


def test_decode_text_cp1252_specials_and_latin1_last_resort() -> None:
    quoted = "“quoted” – 15,50 €"
    assert decode_text(quoted.encode("cp1252")) == quoted
    assert decode_text(b"caf\xe9 \x81") == "café \x81"  # 0x81 is undefined in cp1252


def test_decode_text_keeps_utf8_with_a_truncated_last_character() -> None:
    assert decode_text("naïve €".encode("utf-8")[:-1]) == "naïve "


def test_corpus_text_encodings(corpus_bytes) -> None:
    expected = parse_document(corpus_bytes("unstructured/fake-text.txt"), "fake-text.txt").text
    for name in ("fake-text-utf-16.txt", "fake-text-utf-16-be.txt"):
        doc = parse_document(corpus_bytes(f"unstructured/{name}"), name)
        assert doc.kind == "text"
        assert doc.text == expected
    umlauts = parse_document(corpus_bytes("unstructured/umlauts-non-utf8.md"), "u.md")
    assert umlauts.kind == "markdown"
    assert "können" in umlauts.text and "äöüß" in umlauts.text


def test_cp1252_html_decodes(corpus_bytes) -> None:
    doc = parse_document(corpus_bytes("unstructured/fake-html-cp1252.html"), "a.html")
    assert "schöne Frau" in doc.text and "15,50 €" in doc.text


def test_looks_like_text() -> None:
    assert looks_like_text("Shift-JIS テキスト".encode("shift_jis"))
    assert not looks_like_text(bytes(range(256)))
