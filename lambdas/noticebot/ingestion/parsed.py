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
    # Where in the source the text is, for citations, mostly for formats without pages: a time
    # range in a recording ("00:01:05-00:01:32"), "Sheet 'Budget' rows 2-41", "slide 3",
    # "table 2". Table chunks get a narrower one (their own row range). Carried to
    # Chunk.metadata["location"].
    location: str | None = None
    # Set for tabular data: the chunker then packs whole rows, each chunk repeating the table's
    # name and header, instead of splitting ``text`` (which only serves previews and tests).
    table: Table | None = None


@dataclass
class Table:
    """Rows of one table that keep their column headers (built by ``ingestion.tables``).

    ``rows`` pairs each row's number as a person sees it (the spreadsheet row, the CSV record
    counting the header as 1, the record number in an NDJSON file) with its cell texts, aligned
    to ``columns``. ``row_label`` names such numbers in locations ("rows", "records").
    """

    name: str  # "Sheet 'Budget'", "Table 2", "CSV"
    columns: list[str]
    rows: list[tuple[int, list[str]]]
    row_label: str = "rows"
    show_columns: bool = True  # repeat a "Columns: a | b" line in every chunk
    caption: str | None = None  # a title line found above the table, repeated with the rows


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
    location: str | None = None


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
    max_rows: int = 200_000  # table rows (all sheets together), JSON records, NDJSON lines
    max_cells: int = 5_000_000
    max_field_chars: int = 16 * 1024 * 1024  # one CSV field; the csv module's default is 128 KiB
    # Zip-based formats (docx, xlsx, pptx, odt): checked from the zip directory before parsing.
    max_unzipped_bytes: int = 512 * 1024 * 1024
    max_zip_ratio: float = 200.0  # per member, once it expands past zip_ratio_grace_bytes
    zip_ratio_grace_bytes: int = 8 * 1024 * 1024
    max_zip_entries: int = 10_000
    max_image_pixels: int = 40_000_000  # per image / rendered page (decompression-bomb guard)
    max_ocr_pages: int = 300  # pages of one document read by OCR (TIFF frames, scanned pages)
    max_audio_seconds: float = 3600.0  # longest recording transcribed
