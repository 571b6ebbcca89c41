"""The outside engines some parsers need (OCR for images and scans, speech to text for audio).

They are passed in, never looked up from module globals: the composition root builds them
(``bootstrap``: Tesseract + faster-whisper locally), tests pass fakes, and a parser without the
engine it needs fails the document with a message saying so.
"""

from __future__ import annotations

from dataclasses import dataclass

from noticebot.ports.ocr import OcrEngine
from noticebot.ports.transcriber import Transcriber


@dataclass(frozen=True)
class Engines:
    ocr: OcrEngine | None = None
    transcriber: Transcriber | None = None


NO_ENGINES = Engines()


def local_engines() -> Engines:
    """Tesseract and Whisper tiny.en. Cheap to call: nothing is imported or loaded until a
    document needs it, and a missing install surfaces as a failed document that says what to
    install (never as an import error here)."""
    from noticebot.adapters.local.tesseract_ocr import TesseractOcr
    from noticebot.adapters.local.whisper_transcriber import WhisperTranscriber

    return Engines(ocr=TesseractOcr(), transcriber=WhisperTranscriber())
