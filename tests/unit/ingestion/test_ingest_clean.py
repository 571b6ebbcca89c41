"""Text normalisation and running header/footer removal."""

from __future__ import annotations

from noticebot.ingestion.clean import clean_document, clean_text, remove_running_lines
from noticebot.ingestion.parsed import ParsedDocument, Section


def test_nfkc_controls_zero_width_and_whitespace() -> None:
    raw = "Ef\ufb01cient\u00a0 ﬂow\u200b\x00\x07 ＡＢＣ１２３\r\n\tnext\u2028line  "
    assert clean_text(raw) == "Efficient flow ABC123\nnext line"


def test_paragraph_breaks_kept_and_extra_blank_lines_collapsed() -> None:
    assert clean_text("one\n\n\n\n  two\nthree \n\n") == "one\n\ntwo\nthree"


def test_dehyphenation_only_for_lowercase_continuations() -> None:
    text = "the informa-\ntion desk\nJean-\nPierre and 2019-\n2020 and well-\n  known"
    assert clean_text(text) == "the information desk\nJean-\nPierre and 2019-\n2020 and wellknown"


def test_numbers_and_table_rows_untouched() -> None:
    table = "Item | Qty | Price\nTea | 2 | 3.50\nCake | 1 | -4.25\n1,234,567.89 | 10% | €5"
    assert clean_text(table) == table


def test_text_without_letters_or_digits_is_empty() -> None:
    assert clean_text("  \n\u200b\n . - • \n") == ""


def _pages(n: int) -> list[str]:
    return [
        f"Parish Council Newsletter\nSpring {2024}\nStory {chr(64 + p)} text on page {p}.\n"
        f"Table row | {p * 7} | 20\n- {p} -"
        for p in range(1, n + 1)
    ]


def test_running_header_and_page_number_removed() -> None:
    cleaned = remove_running_lines(_pages(5))
    assert cleaned[0] == (
        "Parish Council Newsletter\nSpring 2024\nStory A text on page 1.\nTable row | 7 | 20"
    )
    for p in range(2, 6):
        assert cleaned[p - 1] == f"Story {chr(64 + p)} text on page {p}.\nTable row | {p * 7} | 20"


def test_header_on_most_but_not_all_pages() -> None:
    pages = _pages(5)
    pages[2] = "Story C only\n- 3 -"  # 4 of 5 pages (80%) still carry the header
    cleaned = remove_running_lines(pages)
    assert cleaned[3].startswith("Story D")
    assert cleaned[2] == "Story C only"


def test_short_documents_and_rare_lines_are_left_alone() -> None:
    assert remove_running_lines(_pages(2)) == _pages(2)
    pages = [f"Header A\nbody {p}" if p == 1 else f"body {p} words" for p in range(1, 6)]
    assert remove_running_lines(pages) == pages


def test_equal_numbers_at_page_bottoms_are_content_not_page_numbers() -> None:
    pages = [f"Payment record {w}\n120.00" for w in ("alpha", "beta", "gamma", "delta")]
    assert remove_running_lines(pages) == pages
    pages = [f"Record {w}\nTotal due 1{p}0.00" for p, w in enumerate(("ab", "cd", "ef", "gh"))]
    assert remove_running_lines(pages) == pages


def test_identical_pages_are_not_treated_as_running_headers() -> None:
    page = "Same first line\nmiddle\nSame last line"
    assert remove_running_lines([page] * 8) == [page] * 8


def test_clean_document_uses_real_page_numbers_and_drops_empty_sections() -> None:
    sections = [Section(text=f"Report header\nBody {w}\nPage {p}", page=p)
                for p, w in ((1, "one"), (3, "three"), (4, "four"), (6, "six"))]
    sections.append(Section(text=" \u200b ", page=7))
    doc = clean_document(ParsedDocument(kind="pdf", title=" T\u200bitle ", sections=sections,
                                        page_count=7))
    assert doc.title == "Title"
    assert [(s.page, s.text) for s in doc.sections] == [
        (1, "Report header\nBody one"), (3, "Body three"), (4, "Body four"), (6, "Body six")
    ]
