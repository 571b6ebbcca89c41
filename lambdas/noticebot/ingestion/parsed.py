"""Plain records passed between the ingestion stages (detect -> parse -> clean -> chunk).

They carry no behaviour so every parser, the cleaner and the chunker can be tested on their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Section:
    """A run of text that shares one page and one heading.

    Sections are the unit the chunker works on: a chunk never spans two sections, which is what
    keeps a chunk's page number and heading true for a citation.
    """

    text: str
    page: int | None = None  # 1-based page for paged formats (PDF), else None
    heading: str | None = None  # nearest heading above the text, if the format has headings


@dataclass
class ParsedDocument:
    kind: str  # the detected kind, e.g. "pdf", "html", "markdown", "text"
    title: str | None
    sections: list[Section] = field(default_factory=list)
    page_count: int | None = None

    @property
    def text(self) -> str:
        """All section texts joined by blank lines (for previews and tests)."""
        return "\n\n".join(s.text for s in self.sections)


@dataclass(frozen=True)
class ChunkDraft:
    """A chunk before it is embedded and stored; ``ordinal`` is its 0-based place in the doc."""

    ordinal: int
    text: str
    page: int | None
    heading: str | None


@dataclass(frozen=True)
class ParseLimits:
    """Guards against files that would exhaust a Lambda's memory or time budget.

    ``max_seconds`` is checked between pages: one pathological page cannot be interrupted, but a
    huge slow document fails with a clear message instead of running into the Lambda timeout and
    leaving a half-processed document behind.
    """

    max_bytes: int = 50 * 1024 * 1024
    max_pages: int = 2000
    max_seconds: float | None = 240.0
