"""Token-aware chunking of sections into citable chunks.

Contract: every chunk has at most ``max_tokens`` tokens according to ``count_tokens``, never
spans two sections (so its page and heading are true), and consecutive chunks of a section
overlap by up to ``overlap_tokens`` (``ingestion.text_split``, which says how it stays fast).

Table sections (``Section.table``: spreadsheets, CSV, JSON records, Word/PowerPoint tables) are
packed by ``ingestion.table_chunks`` instead: whole row records under a repeated line
naming the table and row range plus the header, same token cap, no overlap (rows are atomic);
each chunk's ``location`` is its own row range.
"""

from __future__ import annotations

from collections.abc import Iterable

from noticebot.ingestion.parsed import ChunkDraft, Section
from noticebot.ingestion.table_chunks import table_chunks
from noticebot.ingestion.text_split import CountTokens, pack_text


def chunk_sections(sections: Iterable[Section], count_tokens: CountTokens, max_tokens: int = 200,
                   overlap_tokens: int = 40) -> list[ChunkDraft]:
    """Split sections into ordered chunks; see the module docstring for the guarantees."""
    if max_tokens < 1:
        raise ValueError("max_tokens must be at least 1")
    if not 0 <= overlap_tokens < max_tokens:
        raise ValueError("overlap_tokens must be >= 0 and smaller than max_tokens")
    drafts: list[ChunkDraft] = []
    for section in sections:
        if section.table is not None:  # whole rows under a repeated header
            for chunk, location in table_chunks(section.table, count_tokens, max_tokens):
                drafts.append(ChunkDraft(ordinal=len(drafts), text=chunk, page=section.page,
                                         heading=section.heading, location=location))
            continue
        for chunk in pack_text(section.text, count_tokens, max_tokens, overlap_tokens):
            drafts.append(ChunkDraft(ordinal=len(drafts), text=chunk, page=section.page,
                                     heading=section.heading, location=section.location))
    return drafts
