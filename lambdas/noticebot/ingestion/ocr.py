"""Page images -> OCR text, shared by the image parser and the PDF parser's scanned pages.

What is decided here, once for both:
- pixel limits (the decompression-bomb guard: a 200 KB PNG can claim 50,000 x 50,000 pixels,
  and Pillow would allocate gigabytes to decode it);
- the image handed to the engine: flattened onto white (transparent PNGs OCR as black
  otherwise), 8-bit grey or RGB, PNG-encoded, so every engine gets one format it reads;
- which OCR output counts as text: a page whose words tesseract itself doubts (mean confidence
  under MIN_CONFIDENCE) is noise read from a photo or a drawing, not text, and indexing it would
  put garbage into answers;
- the time budget: every call gets what is left of the document's budget.
"""

from __future__ import annotations

import io
import time

from noticebot.domain.errors import UnreadableDocument
from noticebot.ingestion.parsed import ParseLimits
from noticebot.ports.ocr import OcrPage

MIN_CONFIDENCE = 50.0  # mean word confidence (0..100) below which a page is treated as noise
MIN_SIDE = 24  # pixels: anything smaller holds no readable line of text
MIN_CHARS = 3  # letters or digits a page needs to count as text


def deadline_of(limits: ParseLimits) -> float | None:
    return None if limits.max_seconds is None else time.monotonic() + limits.max_seconds


def time_left(deadline: float | None, limits: ParseLimits, where: str) -> float | None:
    """Seconds left of the document's budget; TimeoutError (a clear failure) when none."""
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError(f"over the {limits.max_seconds:.0f} s budget at {where}")
    return left


def megapixels(pixels: float) -> str:
    return f"{pixels / 1e6:.1f}".rstrip("0").rstrip(".") + " megapixels"


def check_pixels(width: int, height: int, limits: ParseLimits, what: str = "image") -> None:
    pixels = width * height
    if pixels > limits.max_image_pixels:
        raise UnreadableDocument(
            f"{what} too large ({width} x {height} = {megapixels(pixels)} > "
            f"{megapixels(limits.max_image_pixels)} limit; possible decompression bomb)")


def normalise(img):
    """An 8-bit greyscale or RGB copy of a Pillow image, transparency flattened onto white."""
    from PIL import Image

    mode = img.mode
    if mode in ("1", "L", "RGB"):
        return img
    if mode in ("P", "PA") or "transparency" in img.info:
        img = img.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "LA", "RGBa", "La"):
        base = Image.new("RGB", img.size, (255, 255, 255))
        base.paste(img.convert("RGBA"), mask=img.convert("RGBA").getchannel("A"))
        return base
    if mode.startswith(("I", "F")):  # 16/32-bit greyscale (scientific TIFFs): stretch to 8 bits
        low, high = img.getextrema()
        scale = 255.0 / (high - low) if high > low else 1.0
        return img.point(lambda v: (v - low) * scale).convert("L")
    return img.convert("RGB")  # CMYK, YCbCr, LAB, HSV


def is_blank(img) -> bool:
    """A page of one colour (an empty scan, a white page) holds no text: skip the OCR call."""
    low, high = img.convert("L").getextrema()
    return high - low < 16


def png_bytes(img) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def usable_text(page: OcrPage) -> str | None:
    """The page's text when it is text, None when it is noise or nothing."""
    text = page.text.strip()
    if sum(ch.isalnum() for ch in text) < MIN_CHARS:
        return None
    if page.confidence is not None and page.confidence < MIN_CONFIDENCE:
        return None
    return text
