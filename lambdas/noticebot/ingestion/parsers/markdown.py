"""Markdown: each ATX (``# Title``) or Setext (``Title`` over ``===``) heading starts a section.

Headings become section metadata, so a chunk can cite "Parking rules" even when it is the
third chunk under that heading. Lines inside fenced code blocks are never headings (a ``#``
comment in a shell snippet is not a title). Links and images keep only their visible text,
since URLs only add noise to embeddings; other syntax is left alone.
"""

from __future__ import annotations

import re

from noticebot.ingestion.parsed import ParsedDocument, ParseLimits, Section
from noticebot.ingestion.textdecode import decode_text

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_FRONT_TITLE = re.compile(r"^title:[ \t]*(.+?)[ \t]*$", re.MULTILINE)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def _inline(text: str) -> str:
    return _LINK.sub(r"\1", _IMAGE.sub(r"\1", text))


def parse(data: bytes, filename: str, limits: ParseLimits) -> ParsedDocument:
    text = decode_text(data).replace("\r\n", "\n").replace("\r", "\n")
    title = None
    front = _FRONT_MATTER.match(text)
    if front:  # YAML front matter is metadata, not content
        found = _FRONT_TITLE.search(front.group(1))
        title = found.group(1).strip("\"'") if found else None
        text = text[front.end():]
    text = _HTML_COMMENT.sub("", text)

    sections: list[Section] = []
    headings: list[str] = []
    heading: str | None = None
    lines: list[str] = []
    fence: str | None = None

    def flush() -> None:
        body = _inline("\n".join(lines)).strip()
        if body:
            sections.append(Section(text=body, heading=heading))
        lines.clear()

    for line in text.split("\n"):
        marker = _FENCE.match(line)
        if fence is not None:
            if marker and marker.group(1)[0] == fence[0] and len(marker.group(1)) >= len(fence):
                fence = None
            lines.append(line)
            continue
        if marker:
            fence = marker.group(1)
            lines.append(line)
            continue
        atx = _ATX.match(line)
        setext = _SETEXT.match(line)
        if atx:
            new_heading, level = (atx.group(2) or "").strip(), len(atx.group(1))
        elif setext and lines and lines[-1].strip() and not _SETEXT.match(lines[-1]):
            new_heading, level = lines.pop().strip(), 1 if setext.group(1)[0] == "=" else 2
        else:
            lines.append(line)
            continue
        flush()
        heading = _inline(new_heading) or None
        if heading:
            headings.append(heading)
        if level == 1 and title is None and heading:
            title = heading
    flush()
    if not sections and headings:  # a file of headings only still has text to offer
        sections = [Section(text="\n\n".join(headings))]
    return ParsedDocument(kind="markdown", title=title, sections=sections)
