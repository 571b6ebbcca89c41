"""Hand-written fakes for the OCR and speech-to-text ports, and small media builders."""

from __future__ import annotations

import io
import struct
from collections.abc import Callable, Sequence

from noticebot.ports.ocr import OcrEngine, OcrPage
from noticebot.ports.transcriber import (
    Transcriber,
    Transcript,
    TranscriptionJob,
    TranscriptionJobs,
    TranscriptSegment,
)


class FakeOcr(OcrEngine):
    """Answers each page with ``reader(image_bytes, page)`` (default: "text of page N")."""

    name = "fake-ocr"

    def __init__(self, reader: Callable[[bytes, int], OcrPage | str] | None = None,
                 pdf_pages: dict[int, OcrPage] | None = None):
        self.reader = reader or (lambda image, page: f"Notice text of page {page}")
        self.pdf_pages = pdf_pages  # set: the engine reads whole PDFs (like Textract + S3)
        self.calls: list[tuple[int, tuple[int, int] | None]] = []
        self.pdf_calls: list[list[int]] = []

    def recognize(self, image: bytes, *, page: int = 1, timeout: float | None = None) -> OcrPage:
        from PIL import Image

        with Image.open(io.BytesIO(image)) as img:
            self.calls.append((page, img.size))
        result = self.reader(image, page)
        return result if isinstance(result, OcrPage) else OcrPage(result, 90.0, page)

    def recognize_pdf(self, data: bytes, pages: Sequence[int], *, timeout=None):
        if self.pdf_pages is None:
            return None
        self.pdf_calls.append(list(pages))
        return {n: p for n, p in self.pdf_pages.items() if n in pages}


class FakeTranscriber(Transcriber):
    model_id = "fake-transcriber"

    def __init__(self, segments: Sequence[TranscriptSegment] | None = None,
                 error: Exception | None = None):
        self.segments = list(segments if segments is not None else [
            TranscriptSegment(0.0, 4.2, "The committee meets on Tuesday."),
            TranscriptSegment(65.0, 92.4, "Bring the budget report."),
        ])
        self.error = error
        self.calls: list[tuple[str, float | None]] = []

    def transcribe(self, audio: bytes, filename: str, *, max_seconds=None, deadline=None):
        self.calls.append((filename, max_seconds))
        if self.error:
            raise self.error
        return Transcript(segments=self.segments, duration=100.0, language="en")


class FakeTranscriptionJobs(TranscriptionJobs):
    """An asynchronous engine whose jobs finish when the test says so."""

    def __init__(self):
        self.jobs: dict[str, TranscriptionJob] = {}
        self.started: list[str] = []

    def job_name(self, document_id: str) -> str:
        return f"noticebot-{document_id}"

    def start(self, media_key: str, document_id: str, filename: str) -> TranscriptionJob:
        name = self.job_name(document_id)
        self.started.append(name)
        job = self.jobs.get(name) or TranscriptionJob(name, "IN_PROGRESS", media_key)
        self.jobs[name] = job
        return job

    def finish(self, name: str, segments=None, failure: str | None = None) -> None:
        job = self.jobs[name]
        self.jobs[name] = TranscriptionJob(
            name, "FAILED" if failure else "COMPLETED", job.media_key, failure,
            None if failure else Transcript(segments=list(segments or [])))

    def get(self, job_name: str) -> TranscriptionJob:
        return self.jobs[job_name]


def png(width: int = 200, height: int = 80, text: str | None = "X", mode: str = "L") -> bytes:
    """A PNG with a dark bar (not blank) unless ``text`` is None."""
    from PIL import Image, ImageDraw

    img = Image.new(mode, (width, height), "white" if mode != "1" else 1)
    if text is not None:
        ImageDraw.Draw(img).rectangle((10, 10, width // 2, height // 2), fill="black")
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def tiff_pages(*blank: bool, size: tuple[int, int] = (120, 60)) -> bytes:
    """A multi-page TIFF; each argument says whether that page is blank."""
    from PIL import Image, ImageDraw

    frames = []
    for is_blank in blank:
        img = Image.new("L", size, 255)
        if not is_blank:
            ImageDraw.Draw(img).rectangle((5, 5, 60, 30), fill=0)
        frames.append(img)
    out = io.BytesIO()
    frames[0].save(out, format="TIFF", save_all=True, append_images=frames[1:])
    return out.getvalue()


def wav(seconds: float = 0.5, rate: int = 16000) -> bytes:
    """A silent mono 16-bit PCM WAV."""
    samples = int(seconds * rate)
    data = b"\x00\x00" * samples
    header = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    return header + b"data" + struct.pack("<I", len(data)) + data
