"""Plain text: decoded leniently, one section, or one per page when the text has form feeds.

Paragraphs stay separated by blank lines in the section text; the chunker splits on them.
Form feeds are what ``pdftotext`` and old line printers use as page breaks, so honouring them
gives exported text files citable page numbers for free.
"""

from __future__ import annotations

from noticebot.domain.errors import UnreadableDocument
from noticebot.ingestion.parsed import ParsedDocument, ParseLimits, Section
from noticebot.ingestion.textdecode import decode_text


def parse(data: bytes, filename: str, limits: ParseLimits) -> ParsedDocument:
    text = decode_text(data)
    if "\f" not in text.strip("\f"):
        return ParsedDocument(kind="text", title=None, sections=[Section(text=text)])
    pages = text.split("\f")
    if pages and not pages[-1].strip():
        pages.pop()  # a trailing form feed ends the last page, it does not start a new one
    if len(pages) > limits.max_pages:
        raise UnreadableDocument(f"too many pages ({len(pages)} > {limits.max_pages})")
    sections = [Section(text=page, page=number) for number, page in enumerate(pages, 1)]
    return ParsedDocument(kind="text", title=None, sections=sections, page_count=len(pages))
