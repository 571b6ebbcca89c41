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


def aws_engines(clients, bucket: str, *, language_code: str | None = "en-US"):
    """(Engines with Amazon Textract OCR, Amazon Transcribe jobs) for ``bootstrap_aws``.

    ``clients`` is the lazy ``AwsClients``: no client is built until a document needs one.
    Textract reads multi-page scans through ``<bucket>/textract-staging/``; Transcribe reads
    audio uploads where they lie and writes to ``<bucket>/transcripts/``. Without a bucket,
    scans are OCR'd page by page (DetectDocumentText) and there are no transcription jobs.
    """
    from noticebot.adapters.aws.textract_ocr import TextractOcr
    from noticebot.adapters.aws.transcribe import TranscribeJobs

    s3 = clients.provider("s3")
    ocr = TextractOcr(clients.provider("textract"), s3=s3, bucket=bucket)
    if not bucket:  # no bucket: scans go page by page; audio fails as "cannot be transcribed"
        return Engines(ocr=ocr), None
    jobs = TranscribeJobs(clients.provider("transcribe"), s3=s3, bucket=bucket,
                          language_code=language_code)
    return Engines(ocr=ocr), jobs
