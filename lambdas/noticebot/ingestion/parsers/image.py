"""Images (PNG, JPEG, GIF, TIFF incl. multi-page, BMP, WebP) -> OCR text via the OcrEngine port.

Pillow only reads the header before the pixel limit is checked, so a decompression bomb fails
without being decoded. Each TIFF frame is a page (fax and scanner output is multi-page TIFF);
for the other formats only the first frame is read (an animated GIF's frames repeat the same
picture). Single images get no page number; a multi-page TIFF's sections carry theirs.
"""

from __future__ import annotations

import io
import warnings

from noticebot.domain.errors import UnreadableDocument
from noticebot.ingestion.engines import NO_ENGINES, Engines
from noticebot.ingestion.ocr import (
    MIN_SIDE,
    check_pixels,
    deadline_of,
    is_blank,
    normalise,
    png_bytes,
    time_left,
    usable_text,
)
from noticebot.ingestion.parsed import ParsedDocument, ParseLimits, Section

PAGED_FORMATS = frozenset({"TIFF"})


def _open(data: bytes, limits: ParseLimits):
    from PIL import Image, UnidentifiedImageError

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise UnreadableDocument(f"image too large ({exc}; possible decompression bomb)") from exc
        except UnidentifiedImageError as exc:
            raise UnreadableDocument(
                "corrupt or unsupported image: the image format could not be read") from exc
        except (OSError, EOFError, ValueError, SyntaxError) as exc:  # damaged headers
            raise UnreadableDocument(
                f"corrupt or truncated image: {str(exc).strip()[:120] or type(exc).__name__}"
            ) from exc
    check_pixels(*img.size, limits)
    return img


def _frames(img, limits: ParseLimits) -> int:
    count = getattr(img, "n_frames", 1) if img.format in PAGED_FORMATS else 1
    if count > limits.max_pages:
        raise UnreadableDocument(f"too many pages ({count} > {limits.max_pages})")
    if count > limits.max_ocr_pages:
        raise UnreadableDocument(
            f"too many pages to read with OCR ({count} > {limits.max_ocr_pages})")
    return count


def parse(data: bytes, filename: str, limits: ParseLimits, *,
          engines: Engines = NO_ENGINES) -> ParsedDocument:
    if engines.ocr is None:
        raise UnreadableDocument("text in images cannot be read here: no OCR engine is configured")
    deadline = deadline_of(limits)
    img = _open(data, limits)
    from PIL import Image

    count = _frames(img, limits)
    sections: list[Section] = []
    for number in range(1, count + 1):
        where = f"page {number} of {count}" if count > 1 else "the image"
        time_left(deadline, limits, where)
        try:
            img.seek(number - 1)
            check_pixels(*img.size, limits)
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                img.load()  # decode here, so a truncated file fails as corrupt, below
                frame = normalise(img.copy() if count > 1 else img)
        except UnreadableDocument:
            raise
        except (OSError, EOFError, ValueError, SyntaxError) as exc:  # Pillow's damaged-file errors
            if sections:  # a truncated multi-page TIFF: keep the pages before the damage
                break
            raise UnreadableDocument(
                f"corrupt or truncated image: {str(exc).strip()[:120] or type(exc).__name__}"
            ) from exc
        if min(frame.size) < MIN_SIDE or is_blank(frame):
            continue
        page = engines.ocr.recognize(png_bytes(frame), page=number,
                                     timeout=time_left(deadline, limits, where))
        text = usable_text(page)
        if text:
            sections.append(Section(text=text, page=number if count > 1 else None))
    return ParsedDocument(kind="image", title=None, sections=sections,
                          page_count=count if count > 1 else None)
