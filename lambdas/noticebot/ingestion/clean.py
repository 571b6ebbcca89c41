"""Text normalisation shared by all formats, plus PDF running header/footer removal.

Why each step:
- NFKC folds ligatures ("ﬁ" -> "fi") and full-width forms that PDFs emit, so the same word is
  embedded and matched the same way wherever it came from.
- Control and zero-width characters are invisible to people but split tokens for the embedder.
- Hyphenation at a line break ("informa-\\ntion") is undone when the next line continues the word
  in lower case; a hyphen before a capital or a digit is kept ("Jean-\\nPierre", "2019-\\n2020").
- Running headers/footers ("ACME Ltd - Confidential", "Page 3 of 12") repeat on every page and
  would otherwise appear in, and be matched by, every chunk of a long PDF.
Line breaks are kept (table rows and lists stay one per line); blank lines mark paragraphs.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import replace

from noticebot.ingestion.parsed import ParsedDocument, Section

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)
_HSPACE = re.compile(r"[^\S\n]+")  # any whitespace except newline
_HYPHEN_BREAK = re.compile(r"(?<=[^\W\d_])-\n[^\S\n]*(?=[^\W\d_])")
_DIGITS = re.compile(r"\d+")
_EDGE = 3  # lines at the top and at the bottom of a page that may be a running header/footer


# C0/C1 controls except tab and newline, bidi/format marks and lone surrogates. A regex, not a
# per-character category lookup: this runs over every byte of every upload.
_CONTROLS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
    "\ufff9-\ufffb\ud800-\udfff]"
)


def _drop_controls(text: str) -> str:
    return _CONTROLS.sub("", text)


def _dehyphenate(text: str) -> str:
    def join(match: re.Match[str]) -> str:
        nxt = text[match.end()] if match.end() < len(text) else ""
        return "" if nxt.islower() else match.group(0)

    return _HYPHEN_BREAK.sub(join, text)


def clean_text(text: str) -> str:
    """Normalise one section's text; returns "" when nothing readable is left."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    text = unicodedata.normalize("NFKC", text).translate(_ZERO_WIDTH)
    text = _drop_controls(text)
    text = "\n".join(_HSPACE.sub(" ", line).strip() for line in text.split("\n"))
    text = _dehyphenate(text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return text if any(ch.isalnum() for ch in text) else ""


def _line_key(line: str) -> str:
    """Page numbers differ from page to page; everything else in a running header is equal."""
    return _DIGITS.sub("#", line.casefold()).strip()


def _page_number_like(key: str) -> bool:
    return not any(ch.isalpha() for ch in key.replace("page", "").replace("of", ""))


def _is_running(key: str, seen: list[tuple[int, str]]) -> bool:
    """Whether lines sharing ``key`` on several pages are one running header/footer.

    Identical text with words qualifies ("ACME Ltd - Confidential"). Where the lines differ,
    they differ only in numbers; they qualify when one number tracks the page number (a
    constant offset from it: "Page 3 of 12", "47699 Federal Register") and every other number
    is the same on all pages. So "Total due 120.00" / "Total due 130.00" at page bottoms is
    content and stays, and so does a bare number repeated at page ends.
    """
    lines = {line for _, line in seen}
    if len(lines) == 1:
        return not _page_number_like(key)
    numbers = [(page, [int(n) for n in _DIGITS.findall(line)]) for page, line in seen]
    width = len(numbers[0][1])
    if any(len(values) != width for _, values in numbers):
        return False
    varying = [j for j in range(width) if len({values[j] for _, values in numbers}) > 1]
    if len(varying) != 1:
        return False
    j = varying[0]
    return len({values[j] - page for page, values in numbers}) == 1


def _edge_run(lines: list[str], order: range, repeated: set[str]) -> list[int]:
    """Indices of repeated lines contiguous from one page edge (blank lines pass through)."""
    run, seen = [], 0
    for i in order:
        if not lines[i].strip():
            continue
        if seen == _EDGE or _line_key(lines[i]) not in repeated:
            break
        run.append(i)
        seen += 1
    return run


def remove_running_lines(pages: list[str], page_numbers: list[int] | None = None,
                         min_pages: int = 3, share: float = 0.6) -> list[str]:
    """Drop lines repeated at the top or bottom of at least ``share`` of the pages.

    Only the first/last ``_EDGE`` non-blank lines of a page are candidates, and only while they
    are contiguous from the edge, so a repeated line in the body (a table row) is never touched.
    What counts as repeated is decided by ``_is_running``. Page numbers go everywhere; a running
    line with words (a letterhead, an address) is kept where it first appears, so what it says
    can still be found once. Pages that are exact copies of an earlier page are counted once:
    a document that repeats one page eight times has no running header, just eight copies.
    """
    numbers = page_numbers or list(range(1, len(pages) + 1))
    distinct: dict[str, int] = {}  # page text -> number of its first occurrence
    for number, page in zip(numbers, pages):
        distinct.setdefault(page, number)
    if len(distinct) < min_pages:
        return pages
    need = max(2, math.ceil(share * len(distinct)))
    split = [page.split("\n") for page in pages]
    seen: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for page, number in distinct.items():
        lines = page.split("\n")
        content = [line for line in lines if line.strip()]
        if len(content) < 2:  # a lone line is the page's content, not a header over content
            continue
        for where, edge in (("top", content[:_EDGE]), ("bottom", content[-_EDGE:])):
            for key, line in {_line_key(line): line for line in edge}.items():
                seen.setdefault((where, key), []).append((number, line))
    repeated: dict[str, set[str]] = {"top": set(), "bottom": set()}
    for (where, key), occurrences in seen.items():
        if len(occurrences) >= need and _is_running(key, occurrences):
            repeated[where].add(key)
    kept: set[str] = set()
    cleaned = []
    for lines in split:
        if sum(1 for line in lines if line.strip()) < 2:
            cleaned.append("\n".join(lines))
            continue
        drop = set(_edge_run(lines, range(len(lines)), repeated["top"]))
        drop |= set(_edge_run(lines, range(len(lines) - 1, -1, -1), repeated["bottom"]))
        for i in sorted(drop):
            key = _line_key(lines[i])
            if key not in kept and not _page_number_like(key):
                kept.add(key)
                drop.discard(i)
        cleaned.append("\n".join(line for i, line in enumerate(lines) if i not in drop))
    return cleaned


def clean_heading(heading: str | None) -> str | None:
    """Headings are metadata shown with citations: one line, normalised, or None."""
    if heading is None:
        return None
    text = unicodedata.normalize("NFKC", heading).translate(_ZERO_WIDTH)
    text = " ".join(_drop_controls(text).split())
    return text or None


def clean_document(doc: ParsedDocument) -> ParsedDocument:
    """Clean every section, strip running headers/footers of paged documents, drop empties."""
    texts = [clean_text(section.text) for section in doc.sections]
    paged = [i for i, section in enumerate(doc.sections) if section.page is not None and texts[i]]
    pages = {doc.sections[i].page for i in paged}
    if len(pages) == len(paged):  # one section per page: header/footer lines are page edges
        numbers = [doc.sections[i].page for i in paged]
        for i, text in zip(paged, remove_running_lines([texts[i] for i in paged], numbers)):
            texts[i] = clean_text(text)
    sections = [
        replace(section, text=text, heading=clean_heading(section.heading))
        for section, text in zip(doc.sections, texts) if text
    ]
    return ParsedDocument(kind=doc.kind, title=clean_heading(doc.title), sections=sections,
                          page_count=doc.page_count)
