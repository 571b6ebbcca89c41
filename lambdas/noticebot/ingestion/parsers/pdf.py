"""PDF via pypdf: one section per page with its 1-based page number, for page-level citations.

Every failure becomes an UnreadableDocument a person can act on: password protected, damaged,
too long, or scanned without a text layer. pypdf raises its own errors but also plain
ValueError/KeyError/RecursionError... from deep inside on malformed files, so each call into it
is guarded and anything unexpected is reported as a damaged file rather than a crash.

Pages without a text layer (scans, or text drawn as vector shapes) are read with OCR when an
OcrEngine is passed in: rendered with pypdfium2 (greyscale, ``OCR_DPI``, within the pixel limit)
and sent page by page, or sent whole to an engine that reads PDFs itself (Textract). Without an
engine they are skipped; a document with no text on any page fails, because indexing nothing
would look like success to the user.
"""

from __future__ import annotations

import io
import re
import time

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError

from noticebot.domain.errors import UnreadableDocument
from noticebot.ingestion.engines import NO_ENGINES, Engines
from noticebot.ingestion.ocr import check_pixels, is_blank, png_bytes, time_left, usable_text
from noticebot.ingestion.parsed import ParsedDocument, ParseLimits, Section
from noticebot.ports.ocr import OcrEngine

OCR_DPI = 200  # tesseract reads 9-10 pt print reliably from 200 dpi; 300 costs twice the time
MIN_TEXT_CHARS = 3  # letters/digits below which a page counts as having no text layer

_PDF_HEADER = re.compile(rb"%PDF-\d\.\d")
_JUNK_TITLE = re.compile(
    r"^(untitled.*|\(?anonymous\)?|unknown|document\d*|title"
    r"|microsoft (word|powerpoint|excel) - .*"
    r"|.*\.(docx?|pdf|pptx?|xlsx?|odt|rtf|txt|indd|qxp|tmp|dvi|tex))$",
    re.IGNORECASE,
)


def _corrupt(exc: BaseException) -> UnreadableDocument:
    detail = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else ""
    name = type(exc).__name__
    return UnreadableDocument(f"corrupt or truncated PDF: {detail or name}")


def _aes() -> UnreadableDocument:
    """pypdf needs the optional "cryptography" package for AES; without it, say so plainly."""
    return UnreadableDocument(
        "encrypted PDF: it uses AES encryption, which cannot be decrypted here; "
        "upload a copy saved without encryption"
    )


def _open(data: bytes) -> PdfReader:
    if not _PDF_HEADER.search(data[:1024]):
        raise UnreadableDocument("corrupt or truncated PDF: the file has no PDF header")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
        # Many "encrypted" PDFs only restrict printing/copying and open with an empty password.
        opened = reader.decrypt("") if encrypted else True
    except DependencyError as exc:
        raise _aes() from exc
    except FileNotDecryptedError as exc:
        raise UnreadableDocument("password protected PDF: a password is needed to open it") from exc
    except Exception as exc:  # noqa: BLE001 - pypdf raises many types on malformed input
        if "encrypt" in str(exc).lower() or "password" in str(exc).lower():
            raise UnreadableDocument(
                f"encrypted PDF that could not be opened: {str(exc)[:120]}"
            ) from exc
        raise _corrupt(exc) from exc
    if encrypted and not opened:
        raise UnreadableDocument(
            "password protected PDF: a password is needed to open it; upload a copy without one"
        )
    return reader


def _title(reader: PdfReader) -> str | None:
    """The metadata title when it looks like one a person wrote, not a tool's default."""
    try:
        raw = reader.metadata.title if reader.metadata else None
    except Exception:  # noqa: BLE001 - broken metadata must not fail an otherwise good file
        return None
    if not isinstance(raw, str):
        return None
    title = " ".join(raw.replace("\x00", "").split())
    if not 3 <= len(title) <= 200 or _JUNK_TITLE.match(title):
        return None
    if sum(ch.isalpha() for ch in title) < len(title) / 3:
        return None
    return title


def _render_pages(data: bytes, numbers: list[int], limits: ParseLimits):
    """(page number, greyscale PIL image) for each page, rendered at OCR_DPI or less."""
    try:
        import pypdfium2 as pdfium
    except ImportError as exc:
        from noticebot.ports.ocr import EngineUnavailable

        raise EngineUnavailable("rendering scanned pages needs pypdfium2 "
                                "(pip install 'noticebot[media]')") from exc
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise UnreadableDocument(
            f"corrupt or truncated PDF: its scanned pages cannot be rendered ({exc})") from exc
    try:
        for number in numbers:
            page = document[number - 1]
            try:
                width, height = page.get_size()
                scale = OCR_DPI / 72
                pixels = width * height * scale * scale
                if pixels > limits.max_image_pixels:  # a huge page: render smaller, not bigger
                    scale *= (limits.max_image_pixels / pixels) ** 0.5
                check_pixels(int(width * scale), int(height * scale), limits,
                             f"page {number}")
                try:
                    image = page.render(scale=scale, grayscale=True).to_pil()
                except pdfium.PdfiumError as exc:
                    raise UnreadableDocument(
                        f"corrupt PDF: page {number} cannot be rendered ({exc})") from exc
                yield number, image
            finally:
                page.close()
    finally:
        document.close()


def _ocr_pages(data: bytes, numbers: list[int], ocr: OcrEngine, limits: ParseLimits,
               deadline: float | None) -> list[Section]:
    """Sections for the pages in ``numbers`` that OCR finds text on."""
    if len(numbers) > limits.max_ocr_pages:
        raise UnreadableDocument(f"too many scanned pages to read with OCR ({len(numbers)} > "
                                 f"{limits.max_ocr_pages})")
    whole = ocr.recognize_pdf(data, numbers,
                              timeout=time_left(deadline, limits, "OCR of scanned pages"))
    if whole is not None:
        return [Section(text=text, page=number) for number in numbers
                if number in whole and (text := usable_text(whole[number]))]
    sections = []
    for number, image in _render_pages(data, numbers, limits):
        where = f"OCR of page {number}"
        time_left(deadline, limits, where)
        if min(image.size) < 24 or is_blank(image):
            continue
        page = ocr.recognize(png_bytes(image), page=number,
                             timeout=time_left(deadline, limits, where))
        text = usable_text(page)
        if text:
            sections.append(Section(text=text, page=number))
    return sections


def parse(data: bytes, filename: str, limits: ParseLimits, *,
          engines: Engines = NO_ENGINES) -> ParsedDocument:
    reader = _open(data)
    try:
        page_count = len(reader.pages)
    except DependencyError as exc:
        raise _aes() from exc
    except FileNotDecryptedError as exc:
        raise UnreadableDocument("password protected PDF: a password is needed to open it") from exc
    except Exception as exc:  # noqa: BLE001
        raise _corrupt(exc) from exc
    if page_count == 0:
        raise UnreadableDocument("corrupt or truncated PDF: no pages found")
    if page_count > limits.max_pages:
        raise UnreadableDocument(f"too many pages ({page_count} > {limits.max_pages})")

    started = time.monotonic()
    deadline = None if limits.max_seconds is None else started + limits.max_seconds
    sections: list[Section] = []
    failures: list[BaseException] = []
    textless: list[int] = []
    scraps: dict[int, str] = {}
    for number in range(1, page_count + 1):
        if limits.max_seconds is not None and time.monotonic() - started > limits.max_seconds:
            raise UnreadableDocument(
                f"PDF took too long to read (over {limits.max_seconds:.0f} s at page {number} "
                f"of {page_count})"
            )
        try:
            text = reader.pages[number - 1].extract_text()
        except DependencyError as exc:  # AES can surface only when a page is read
            raise _aes() from exc
        except Exception as exc:  # noqa: BLE001 - one bad page must not sink the rest
            failures.append(exc)
            continue
        if text and sum(ch.isalnum() for ch in text) >= MIN_TEXT_CHARS:
            sections.append(Section(text=text, page=number))
        else:
            textless.append(number)
            if text and text.strip():  # a stray character or two: kept unless OCR reads more
                scraps[number] = text

    scanned = 0
    if textless and engines.ocr is not None:
        ocr_sections = _ocr_pages(data, textless, engines.ocr, limits, deadline)
        scanned = len(textless)
        for section in ocr_sections:
            scraps.pop(section.page, None)
        sections += ocr_sections
    sections += [Section(text=text, page=number) for number, text in scraps.items()]
    sections.sort(key=lambda section: section.page)

    if not sections:
        if failures:
            raise _corrupt(failures[0])
        if scanned:
            raise UnreadableDocument(
                f"no extractable text: the PDF has no text layer and OCR found no readable text "
                f"on its {scanned} page{'s' if scanned != 1 else ''}")
        raise UnreadableDocument("no extractable text (scanned PDF without a text layer?)")
    return ParsedDocument(kind="pdf", title=_title(reader), sections=sections,
                          page_count=page_count)
