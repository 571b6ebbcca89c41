"""Plain text and Markdown: paragraphs, headings as sections, fences, pages from form feeds."""

from __future__ import annotations

from noticebot.ingestion import parse_document

MARKDOWN = """---
title: Residents' handbook
author: someone
---
Intro paragraph before any heading.

# Rules

See [the rota](https://example.org/rota) and ![map of the site](map.png).
<!-- hidden note -->

## Parking
Park in bays 1-12 only.

```sh
# not a heading, a shell comment
echo ok
```

Quiet hours
===========
From 22:00.

Recycling ###
-------------
Paper | Tuesday
"""


def test_markdown_headings_start_sections() -> None:
    doc = parse_document(MARKDOWN.encode(), "handbook.md")
    assert doc.kind == "markdown"
    assert doc.title == "Residents' handbook"  # front matter wins over the first h1
    assert [(s.heading, s.text) for s in doc.sections] == [
        (None, "Intro paragraph before any heading."),
        ("Rules", "See the rota and map of the site."),
        ("Parking",
         "Park in bays 1-12 only.\n\n```sh\n# not a heading, a shell comment\necho ok\n```"),
        ("Quiet hours", "From 22:00."),
        ("Recycling ###", "Paper | Tuesday"),
    ]


def test_markdown_title_from_first_h1() -> None:
    doc = parse_document(b"Preface\n\n# The Title\n\nBody\n\n# Second\n\nMore", "a.markdown")
    assert doc.title == "The Title"
    assert [s.heading for s in doc.sections] == [None, "The Title", "Second"]


def test_markdown_of_only_headings_keeps_them_as_text() -> None:
    doc = parse_document(b"# Agenda\n\n## Item one\n", "agenda.md")
    assert doc.text == "Agenda\n\nItem one"


def test_plain_text_keeps_paragraphs_in_one_section() -> None:
    doc = parse_document(b"First para line one\nline two.\n\n\n\nSecond para.\n", "a.txt")
    assert doc.kind == "text" and doc.title is None
    assert [s.text for s in doc.sections] == ["First para line one\nline two.\n\nSecond para."]


def test_form_feeds_become_pages() -> None:
    doc = parse_document(b"page one\fpage two\f\fpage four\f", "export.txt")
    assert doc.page_count == 4
    assert [(s.page, s.text) for s in doc.sections] == [
        (1, "page one"), (2, "page two"), (4, "page four")
    ]


def test_corpus_markdown_code_block_with_html_is_markdown(corpus_bytes) -> None:
    doc = parse_document(corpus_bytes("unstructured/codeblock.md"), "codeblock.md", "text/html")
    assert doc.kind == "markdown"
    assert doc.sections[0].heading == "HTML Example"
    assert "<!DOCTYPE html>" in doc.sections[0].text
