"""PowerPoint .pptx via python-pptx: one section per slide, cited as "slide n" (and page n).

A slide's title is its heading; text frames are read in reading order (top to bottom, then left
to right, not the z-order the file stores), inside groups too; tables become row records with
their header row; speaker notes follow the slide text, marked "Notes:", because presenters often
put the real explanation there. Charts and pictures carry no text here.
"""

from __future__ import annotations

import io
import re

from noticebot.domain.errors import UnreadableDocument
from noticebot.ingestion.parsed import ParsedDocument, ParseLimits, Section
from noticebot.ingestion.tables import simple_table_sections

_MAX_HEADING = 150
# Titles PowerPoint and templates fill in by themselves: not a title a person gave the file.
_DEFAULT_TITLE = re.compile(r"^(powerpoint presentation|presentation\d*|slide \d+|title slide"
                            r"|click to (add|edit) title.*)$", re.IGNORECASE)


def _corrupt(exc: BaseException) -> UnreadableDocument:
    detail = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
    return UnreadableDocument(f"corrupt or truncated PowerPoint presentation (.pptx): {detail}")


def _position(shape) -> tuple[int, int]:
    return (getattr(shape, "top", None) or 0, getattr(shape, "left", None) or 0)


def _shapes(shapes):
    """Shapes in reading order, group members in place of their group."""
    for shape in sorted(shapes, key=_position):
        members = getattr(shape, "shapes", None)  # a group shape
        if members is not None and not getattr(shape, "has_text_frame", False):
            yield from _shapes(members)
        else:
            yield shape


def parse(data: bytes, filename: str, limits: ParseLimits) -> ParsedDocument:
    from pptx import Presentation
    from pptx.exc import PackageNotFoundError

    try:
        presentation = Presentation(io.BytesIO(data))
        slides = list(presentation.slides)
    except PackageNotFoundError as exc:
        raise UnreadableDocument(
            "corrupt or truncated PowerPoint presentation (.pptx): it is not a PowerPoint package"
        ) from exc
    except Exception as exc:  # noqa: BLE001 - zip/XML errors of a damaged file
        raise _corrupt(exc) from exc
    if len(slides) > limits.max_pages:
        raise UnreadableDocument(f"too many slides ({len(slides)} > {limits.max_pages})")
    sections: list[Section] = []
    title = None
    for number, slide in enumerate(slides, 1):
        try:
            title_shape = slide.shapes.title
            heading = " ".join((title_shape.text_frame.text if title_shape is not None
                                and title_shape.has_text_frame else "").split()) or None
            if heading and len(heading) > _MAX_HEADING:
                heading = heading[:_MAX_HEADING - 1].rstrip() + "…"
            texts: list[str] = []
            tables: list[list[list[str]]] = []
            for shape in _shapes(slide.shapes):
                if getattr(shape, "has_table", False) and shape.has_table:
                    tables.append([[cell.text for cell in row.cells] for row in shape.table.rows])
                elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
                    text = shape.text_frame.text.strip()
                    if text:
                        texts.append(text)
            if slide.has_notes_slide:
                notes = (slide.notes_slide.notes_text_frame.text
                         if slide.notes_slide.notes_text_frame is not None else "").strip()
                if notes:
                    texts.append(f"Notes: {notes}")
        except Exception as exc:  # noqa: BLE001 - one damaged slide part
            raise _corrupt(exc) from exc
        if title is None and number == 1 and heading:
            title = heading
        if texts:
            sections.append(Section(text="\n\n".join(texts), page=number, heading=heading,
                                    location=f"slide {number}"))
        for index, rows in enumerate(tables, 1):
            name = f"Slide {number} table" + (f" {index}" if len(tables) > 1 else "")
            sections.extend(simple_table_sections(rows, name, heading=heading, page=number))
    if not sections:
        raise UnreadableDocument("no readable text on any slide (text in pictures is not read)")
    try:
        core_title = (presentation.core_properties.title or "").strip()
    except Exception:  # noqa: BLE001
        core_title = ""
    if _DEFAULT_TITLE.match(core_title):
        core_title = ""
    return ParsedDocument(kind="pptx", title=core_title or title, sections=sections,
                          page_count=len(slides))
