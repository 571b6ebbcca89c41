"""PDF parsing: encryption, damage, page numbers, limits and scans, on real and built files."""

from __future__ import annotations

import importlib.util
import io

import pytest
from pypdf import PdfReader, PdfWriter

from noticebot.domain.errors import UnreadableDocument
from noticebot.ingestion import ParseLimits, parse_document

HAS_AES = any(importlib.util.find_spec(m) for m in ("cryptography", "Crypto"))


@pytest.mark.parametrize(
    "name",
    [
        "pypdf/encryption/r2-user-password.pdf",
        "pypdf/encryption/r3-user-password.pdf",
        "pypdf/encryption/r4-aes-user-password.pdf",
        "pdfplumber/password-example.pdf",
        "unstructured/pdf/password.pdf",
    ],
)
def test_pdf_needing_a_password_fails_as_password_protected(corpus_bytes, name: str) -> None:
    with pytest.raises(UnreadableDocument, match=r"^password protected PDF: "):
        parse_document(corpus_bytes(name), name.rsplit("/", 1)[-1], "application/pdf")


@pytest.mark.parametrize(
    "name",
    [
        "pypdf/encryption/r2-empty-password.pdf",
        "pypdf/encryption/r3-empty-password.pdf",
        "pypdf/encryption/r2-owner-password.pdf",
        "pypdf/encryption/r4-owner-password.pdf",
    ],
)
def test_pdf_that_opens_with_the_empty_password_parses(corpus_bytes, name: str) -> None:
    doc = parse_document(corpus_bytes(name), "x.pdf")
    assert doc.kind == "pdf"
    assert doc.sections and doc.sections[0].page == 1
    assert any(ch.isalpha() for ch in doc.text)


def test_aes_pdf_opens_or_fails_saying_why(corpus_bytes) -> None:
    data = corpus_bytes("pypdf/encryption/r6-empty-password.pdf")
    if HAS_AES:
        assert parse_document(data, "r6.pdf").sections
    else:
        with pytest.raises(UnreadableDocument, match=r"^encrypted PDF: .*AES"):
            parse_document(data, "r6.pdf")


def _encrypted(make_pdf, user_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf([["Meeting at noon"]]))))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_built_encrypted_pdfs(make_pdf) -> None:
    assert parse_document(_encrypted(make_pdf, ""), "a.pdf").text == "Meeting at noon"
    with pytest.raises(UnreadableDocument, match=r"^password protected PDF"):
        parse_document(_encrypted(make_pdf, "secret"), "a.pdf")


@pytest.mark.parametrize(
    "cut",
    [
        lambda d: d[: len(d) // 2],
        lambda d: d[:200],
        lambda d: d[:9],
        lambda d: d[:20] + bytes(range(256)) * 16,
    ],
    ids=["half", "first-200-bytes", "header-only", "garbage-body"],
)
def test_corrupt_or_truncated_pdf_fails_clearly(corpus_bytes, cut) -> None:
    data = cut(corpus_bytes("py-pdf_sample-files/004-pdflatex-4-pages/pdflatex-4-pages.pdf"))
    with pytest.raises(UnreadableDocument, match=r"^corrupt or truncated PDF: \S"):
        parse_document(data, "broken.pdf", "application/pdf")


def test_text_file_named_pdf_fails_as_not_a_pdf() -> None:
    with pytest.raises(UnreadableDocument, match=r"^corrupt or truncated PDF: .*no PDF header"):
        parse_document(b"this is not a pdf", "report.pdf", "application/pdf")


def test_html_named_pdf_is_parsed_as_html(corpus_bytes) -> None:
    data = corpus_bytes("derived_edge_cases/not-a-pdf-really-html.pdf")
    doc = parse_document(data, "not-a-pdf-really-html.pdf", "application/pdf")
    assert doc.kind == "html"
    assert doc.text == "404 Not Found"
    assert doc.page_count is None and doc.sections[0].page is None


def test_normal_pdf_keeps_page_numbers(corpus_bytes) -> None:
    doc = parse_document(
        corpus_bytes("py-pdf_sample-files/004-pdflatex-4-pages/pdflatex-4-pages.pdf"), "p.pdf"
    )
    assert doc.kind == "pdf" and doc.page_count == 4
    assert [s.page for s in doc.sections] == [1, 2, 3, 4]
    assert all(s.text.strip() for s in doc.sections)


def test_pages_without_text_are_skipped_but_numbering_is_kept(make_pdf) -> None:
    doc = parse_document(make_pdf([["First page"], [], ["Third page"]]), "scan-mix.pdf")
    assert doc.page_count == 3
    assert [(s.page, s.text) for s in doc.sections] == [(1, "First page"), (3, "Third page")]


@pytest.mark.parametrize(
    "name",
    ["pypdf/imagemagick-lzw.pdf", "markitdown/MEDRPT-2024-PAT-3847_medical_report_scan.pdf",
     "pypdf/encrypted_doc_no_id.pdf"],
)
def test_pdf_without_text_layer_fails(corpus_bytes, name: str) -> None:
    with pytest.raises(UnreadableDocument) as err:
        parse_document(corpus_bytes(name), "scan.pdf")
    assert err.value.message == "no extractable text (scanned PDF without a text layer?)"


def test_max_pages_limit(make_pdf) -> None:
    data = make_pdf([[word] for word in ("alpha", "beta", "gamma", "delta", "epsilon")])
    assert parse_document(data, "a.pdf", limits=ParseLimits(max_pages=5)).page_count == 5
    with pytest.raises(UnreadableDocument, match=r"^too many pages \(5 > 4\)$"):
        parse_document(data, "a.pdf", limits=ParseLimits(max_pages=4))


def test_title_from_metadata_when_sane(corpus_bytes) -> None:
    doc = parse_document(
        corpus_bytes("py-pdf_sample-files/011-google-doc-document/google-doc-document.pdf"), "g.pdf"
    )
    assert doc.title == "PDF Example Document"
    receipt = parse_document(
        corpus_bytes("markitdown/RECEIPT-2024-TXN-98765_retail_purchase.pdf"), "r.pdf"
    )
    assert receipt.title is None  # "(anonymous)" is a tool default, not a title


def test_running_headers_and_page_numbers_removed_from_real_pdf(corpus_bytes) -> None:
    doc = parse_document(corpus_bytes("pdfplumber/federal-register-2020-17221.pdf"), "fr.pdf")
    running = "Federal Register / Vol. 85, No. 152 / Thursday, August 6, 2020 / Proposed Rules"
    pages_with_header = [s.page for s in doc.sections if running in s.text]
    assert len(pages_with_header) <= 1  # kept once at most, not on all 14 pages that carry it
    numbered = parse_document(corpus_bytes("pdfplumber/issue-982-example.pdf"), "n.pdf")
    assert numbered.page_count == 8
    for section in numbered.sections:
        lines = section.text.split("\n")
        assert str(section.page) not in (lines[0].strip(), lines[-1].strip())


def test_running_header_removed_from_built_pdf(make_pdf) -> None:
    pages = [
        ["ACME Housing Co-op - Board minutes", f"Body text of page {n} about topic {n}.",
         f"Total due 1{n}0.00", f"Page {n} of 5"]
        for n in range(1, 6)
    ]
    doc = parse_document(make_pdf(pages), "minutes.pdf")
    texts = {s.page: s.text for s in doc.sections}
    assert texts[1].startswith("ACME Housing Co-op - Board minutes")  # kept where it first appears
    for n in range(2, 6):
        assert texts[n] == f"Body text of page {n} about topic {n}.\nTotal due 1{n}0.00"
    assert "Page 1 of 5" not in texts[1]
