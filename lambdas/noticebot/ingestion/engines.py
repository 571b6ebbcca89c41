"""The outside engines some parsers need (OCR for images and scans, speech to text for audio).

They are passed in, never looked up from module globals: each mode's composition root builds
them (``bootstrap_local``: Tesseract + faster-whisper; ``bootstrap_aws``: Textract), tests pass
fakes, and a parser without the engine it needs fails the document with a message saying so.
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
