"""HTML via BeautifulSoup: the readable article text, sectioned by h1-h6 headings.

Saved web pages are mostly chrome: menus, cookie banners, footers, share buttons. Indexed, that
text pollutes every search ("Accept all cookies" matches nothing useful but ranks everywhere),
so those elements are removed by tag, ARIA role, and class/id words before text is taken.
Tables become one "a | b | c" line per row, which keeps a row's values together in one chunk.
The stdlib "html.parser" backend is used unless lxml is installed (faster, same results here).
"""

from __future__ import annotations

import codecs
import importlib.util
import re

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import CData, PreformattedString

from noticebot.ingestion.parsed import ParsedDocument, ParseLimits, Section
from noticebot.ingestion.textdecode import bom_encoding, decode_text

_BACKEND = "lxml" if importlib.util.find_spec("lxml") else "html.parser"

_DROP_TAGS = {"script", "style", "nav", "footer", "aside", "form", "noscript", "template", "svg",
              "iframe", "button", "select", "textarea", "input", "canvas", "object", "embed",
              "dialog", "menu", "title", "meta", "link", "base"}
_DROP_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "menu",
               "menubar", "dialog", "alertdialog", "toolbar"}
_BOILERPLATE_WORDS = {"cookie", "cookies", "consent", "gdpr", "banner", "menu", "navbar", "nav",
                      "navigation", "navbox", "sidebar", "breadcrumb", "breadcrumbs", "share",
                      "sharing", "social", "advert", "advertisement", "ads", "promo", "popup",
                      "modal", "newsletter", "subscribe", "skip", "toolbar", "footer",
                      "editsection", "catlinks", "printfooter", "noprint"}
_BOILERPLATE_PREFIXES = ("cookie", "breadcrumb", "sidebar", "navbar", "consent", "gdpr", "advert",
                         "skip", "jump")
_SKIP_LINK = re.compile(r"^(skip|jump) to\b", re.IGNORECASE)
_PROTECTED = {"html", "body", "main", "article"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_LAYOUT_MARKERS = _HEADINGS | {"table"}  # a table holding these lays out a page, not data
_BLOCKS = {"p", "div", "section", "article", "main", "ul", "ol", "dl", "blockquote", "pre",
           "figure", "figcaption", "address", "hr", "center", "details", "summary", "fieldset",
           "caption", "header", "table"}
_LINES = {"li", "dt", "dd", "tr", "td", "th"}  # layout-table cells and list items: one per line
_WORD_SPLIT = re.compile(r"[\s_\-:]+")
_SPACES = re.compile(r"[ \t\r\n\f\v]+")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.I)


def _decode(data: bytes) -> str:
    """Honour a BOM, then a <meta charset> that is not UTF-8, else the lenient text decoder."""
    declared = _META_CHARSET.search(data[:4096])
    if declared and not bom_encoding(data):
        try:
            encoding = codecs.lookup(declared.group(1).decode("ascii")).name
        except (LookupError, UnicodeDecodeError):
            encoding = "utf-8"
        if encoding in ("latin-1", "iso8859-1", "ascii"):
            encoding = "cp1252"  # what browsers do for these labels
        if encoding not in ("utf-8", "utf-16", "utf-32", "cp1252"):
            return data.decode(encoding, errors="replace")
    return decode_text(data)


def _collapse(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _is_boilerplate(tag: Tag) -> bool:
    if tag.name in _PROTECTED:
        return False
    if tag.has_attr("hidden") or tag.get("aria-hidden") == "true":
        return True
    style = str(tag.get("style") or "").replace(" ", "").lower()
    if "display:none" in style or "visibility:hidden" in style:
        return True
    if str(tag.get("role") or "").lower() in _DROP_ROLES:
        return True
    if tag.name == "a" and str(tag.get("href") or "").startswith("#"):
        if _SKIP_LINK.match(tag.get_text().strip()):  # "Skip to main content"
            return True
    names = " ".join(tag.get("class") or []) + " " + str(tag.get("id") or "")
    words = [word for word in _WORD_SPLIT.split(names.lower()) if word]
    return any(w in _BOILERPLATE_WORDS or w.startswith(_BOILERPLATE_PREFIXES) for w in words)


def _tags(root: Tag) -> list[Tag]:
    """All elements under ``root`` in document order. bs4's ``find_all`` is far slower than
    walking ``descendants`` once, which matters on pages with 100k+ elements."""
    return [node for node in root.descendants if isinstance(node, Tag)]


def _nearest(tag: Tag, names: set[str]) -> Tag | None:
    """Closest ancestor named in ``names`` (a plain walk: ``find_parent`` is slow)."""
    parent = tag.parent
    while parent is not None and parent.name not in names:
        parent = parent.parent
    return parent


def _gone(tag: Tag) -> bool:
    """Whether ``tag`` was decomposed (directly or with an ancestor). ``Tag.decomposed`` is
    not used: on a live tag it falls through ``__getattr__`` into a subtree search, which made
    this loop quadratic on large pages."""
    return bool(vars(tag).get("_decomposed", False))


def _strip_boilerplate(soup: BeautifulSoup) -> None:
    tags = _tags(soup)
    for tag in tags:
        if _gone(tag):
            continue
        # A page header is chrome; an article's header (title, byline) is not.
        if tag.name in _DROP_TAGS or (
            tag.name == "header" and _nearest(tag, {"article", "main"}) is None
        ):
            tag.decompose()
    total = len(soup.get_text())
    for tag in tags:
        # A wrapper whose class merely mentions a sidebar ("has-sidebar") can hold the whole
        # page: boilerplate is small, so never drop an element holding most of the text.
        if not _gone(tag) and _is_boilerplate(tag) and len(tag.get_text()) < 0.5 * total:
            tag.decompose()


def _is_layout_table(table: Tag) -> bool:
    return any(tag.name in _LAYOUT_MARKERS for tag in _tags(table))


def _render_table(table: Tag) -> str:
    rows = []
    for tr in _tags(table):
        if tr.name != "tr" or _nearest(tr, {"table"}) is not table:
            continue
        cells = [_collapse(cell.get_text(" ")) for cell in tr.children
                 if isinstance(cell, Tag) and cell.name in ("td", "th")]
        if any(cells):
            rows.append(" | ".join(cells))
    return "\n".join(rows)


# Break markers: every block boundary emits one, and a run of them (with the whitespace between)
# becomes a single line or paragraph break, so "</li>\n  <li>" is one newline, not three.
_LINE, _PARA = "\x01", "\x02"
_BREAKS = re.compile(r"[^\S\n]*(?:[\x01\x02]\s*)+")
_MARKER_CHARS = re.compile(r"[\x01\x02]")


def _tidy(text: str) -> str:
    text = _BREAKS.sub(lambda m: "\n\n" if _PARA in m.group() else "\n", text)
    lines = [line.strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _sections(root: Tag) -> tuple[list[Section], list[str]]:
    """Walk the tree without recursion (deeply nested pages must not hit the recursion limit)."""
    sections: list[Section] = []
    headings: list[str] = []
    heading: str | None = None
    buf: list[str] = []
    pre_depth = 0

    def flush() -> None:
        text = _tidy("".join(buf))
        if text:
            sections.append(Section(text=text, heading=heading))
        buf.clear()

    stack: list[tuple[object, bool]] = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        if isinstance(node, NavigableString):
            if isinstance(node, PreformattedString) and not isinstance(node, CData):
                continue  # comments, doctype, processing instructions
            text = _MARKER_CHARS.sub("", str(node))
            buf.append(text if pre_depth else _SPACES.sub(" ", text))
            continue
        if not isinstance(node, Tag):
            continue
        name = node.name
        if leaving:
            pre_depth -= name == "pre"
            buf.append(_PARA if name in _BLOCKS else _LINE)
            continue
        if name in _HEADINGS:
            flush()
            heading = _collapse(node.get_text(" ")) or None
            if heading:
                headings.append(heading)
            continue
        if name == "br":
            buf.append(_LINE)
            continue
        if name == "table" and not _is_layout_table(node):
            buf.append(_PARA + _render_table(node) + _PARA)
            continue
        if name in _BLOCKS or name in _LINES:
            buf.append(_PARA if name in _BLOCKS else _LINE)
            pre_depth += name == "pre"
            stack.append((node, True))
        stack.extend((child, False) for child in reversed(node.contents))
    flush()
    return sections, headings


def parse(data: bytes, filename: str, limits: ParseLimits) -> ParsedDocument:
    soup = BeautifulSoup(_decode(data), _BACKEND)
    title_tag = soup.find("title")
    title = _collapse(title_tag.get_text(" ")) if title_tag else ""
    _strip_boilerplate(soup)
    if not title:
        h1 = soup.find("h1")
        title = _collapse(h1.get_text(" ")) if h1 else ""
    sections, headings = _sections(soup)
    if not sections and headings:  # a page that is only headings still has text to offer
        sections = [Section(text="\n\n".join(headings))]
    return ParsedDocument(kind="html", title=title or None, sections=sections)
