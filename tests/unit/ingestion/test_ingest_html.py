"""HTML: boilerplate removal, headings as sections, tables as rows, title."""

from __future__ import annotations

import pytest

from noticebot.domain.errors import UnreadableDocument
from noticebot.ingestion import parse_document

PAGE = b"""<!DOCTYPE html>
<html><head><title> Village Hall \xe2\x80\x93 Notices </title>
<style>.x{color:red}</style><script>var tracking = "SCRIPT-TEXT";</script></head>
<body class="has-sidebar">
<div id="cookie-banner">We use cookies. Accept all</div>
<header><a href="/">Home</a> | <a href="/about">About</a></header>
<nav><ul><li>Menu item one</li><li>Menu item two</li></ul></nav>
<div class="breadcrumbs">Home &gt; Notices</div>
<a class="skip" href="#main">Skip to main content</a>
<main>
  <article>
    <header><h1>Hall notices</h1></header>
    <p>The hall is <b>closed</b> on
       Monday.</p>
    <h2>Bin collection</h2>
    <p>Bins go out on Tuesday.</p>
    <p hidden>Hidden draft text</p>
    <table>
      <tr><th>Day</th><th>Bin</th><th>Time</th></tr>
      <tr><td>Tue</td><td>Green</td><td>07:00</td></tr>
      <tr><td>Fri</td><td>Blue &amp; grey</td><td>07:30</td></tr>
    </table>
    <h3>Notes</h3>
    <ul><li>Rinse glass</li><li>No bags</li></ul>
    <pre>line one
    indented line two</pre>
    <!-- a comment that must not appear -->
  </article>
</main>
<aside class="sidebar-widget">Related posts</aside>
<form><input value="search"></form>
<footer>Copyright 2024 Parish Council</footer>
<noscript>Enable JavaScript</noscript>
</body></html>"""


@pytest.fixture(scope="module")
def doc():
    return parse_document(PAGE, "notices.html", "text/html")


def test_title_and_sections(doc) -> None:
    assert doc.kind == "html"
    assert doc.title == "Village Hall – Notices"
    assert [s.heading for s in doc.sections] == ["Hall notices", "Bin collection", "Notes"]
    assert doc.sections[0].text == "The hall is closed on Monday."
    assert all(s.page is None for s in doc.sections)


def test_boilerplate_stripped(doc) -> None:
    text = doc.text
    for junk in ("SCRIPT-TEXT", "color:red", "cookies", "Menu item", "Home", "Skip to",
                 "Related posts", "search", "Copyright", "JavaScript", "comment", "Hidden draft"):
        assert junk not in text, junk
    assert "Bins go out on Tuesday." in text


def test_table_rendered_row_by_row(doc) -> None:
    bins = doc.sections[1].text
    assert "Day | Bin | Time\nTue | Green | 07:00\nFri | Blue & grey | 07:30" in bins


def test_lists_and_pre_keep_line_structure(doc) -> None:
    notes = doc.sections[2].text
    assert "Rinse glass\nNo bags" in notes
    assert "line one\nindented line two" in notes


def test_title_falls_back_to_first_h1() -> None:
    doc = parse_document(b"<h1>Fete <i>2024</i></h1><p>Saturday</p>", "f.html")
    assert doc.title == "Fete 2024"


def test_page_of_only_headings_still_has_text() -> None:
    doc = parse_document(b"<html><body><h1>404 Not Found</h1></body></html>", "x.html")
    assert doc.text == "404 Not Found"


def test_page_without_text_fails() -> None:
    with pytest.raises(UnreadableDocument, match="no readable text"):
        parse_document(b"<html><body><script>x()</script><img src=a.png></body></html>", "a.html")


def test_corpus_header_and_footer_stripped(corpus_bytes) -> None:
    doc = parse_document(
        corpus_bytes("unstructured/fake-html-with-footer-and-header.html"), "page.html"
    )
    assert doc.title == "My First Heading"
    assert doc.text == "My first paragraph."
    assert doc.sections[0].heading == "My First Heading"


def test_corpus_scripts_and_chrome_stripped(corpus_bytes) -> None:
    doc = parse_document(corpus_bytes("unstructured/example-with-scripts.html"), "isw.html")
    assert doc.title and doc.title.startswith("Russian Offensive Campaign Assessment")
    assert "function(" not in doc.text and "window." not in doc.text
    assert "Russian forces" in doc.text


def test_corpus_wikipedia_is_sectioned_without_navigation(corpus_bytes) -> None:
    doc = parse_document(corpus_bytes("markitdown/test_wikipedia.html"), "wiki.html")
    assert doc.title == "Microsoft - Wikipedia"
    headings = [s.heading for s in doc.sections]
    assert "1972–1985: Founding" in headings
    assert "Jump to content" not in doc.text
    assert "[edit]" not in doc.text


def test_corpus_malformed_head_keeps_body(corpus_bytes) -> None:
    doc = parse_document(
        corpus_bytes("unstructured/fake-html-with-duplicate-elements.html"), "dup.html"
    )
    assert doc.title == "Simple Nested HTML"
    assert [s.text for s in doc.sections] == ["This is a span. This is another span."] * 2
