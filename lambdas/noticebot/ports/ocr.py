"""OcrEngine: the text in a page image. Tesseract locally, Amazon Textract in AWS.

One call reads one page: the image parser sends each frame of a (multi-page) TIFF, the PDF
parser each rendered page that has no text layer. Engines that can read a whole PDF in one
job (Textract's asynchronous API, which needs the file in S3) also implement
``recognize_pdf``; the default returns None and the caller renders and sends page images.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass


class EngineUnavailable(RuntimeError):
    """The engine cannot run here (binary not installed, model missing, service disabled).

    Parsers turn it into a failed document that says what is missing; it is not the file's
    fault, so the message names the installation step instead of blaming the upload.
    """


@dataclass(frozen=True)
class OcrPage:
    """Recognised text of one page image; lines keep their reading order, blank lines
    separate blocks. ``confidence`` is the mean word confidence in 0..100, None if unknown."""

    text: str
    confidence: float | None = None
    page: int = 1  # 1-based page (frame) number in the source document


class OcrEngine(ABC):
    name: str = "ocr"

    @abstractmethod
    def recognize(self, image: bytes, *, page: int = 1, timeout: float | None = None) -> OcrPage:
        """Text of one page image (PNG, JPEG or single-frame TIFF bytes).

        ``timeout`` (seconds) bounds this one call; exceeding it raises TimeoutError.
        Raises EngineUnavailable when the engine cannot run at all.
        """

    def recognize_pdf(self, data: bytes, pages: Sequence[int], *,
                      timeout: float | None = None) -> dict[int, OcrPage] | None:
        """OCR of ``pages`` (1-based) of a PDF in one request, or None when this engine
        only reads page images (the caller then renders each page and calls ``recognize``)."""
        return None
