"""OcrEngine on Amazon Textract.

- Images and single pages: ``DetectDocumentText``, synchronous, bytes in the request (Textract
  takes PNG, JPEG, TIFF or a one-page PDF up to 10 MB; a larger page image is re-encoded as
  JPEG first).
- Scanned pages of a multi-page PDF: ``StartDocumentTextDetection`` on a copy of the PDF put
  under a staging prefix of the bucket (the asynchronous API reads only from S3), then
  ``GetDocumentTextDetection`` polled until the job ends, every result page followed through
  ``NextToken``, and the staging copy deleted. Without a bucket, ``recognize_pdf`` returns None
  and the PDF parser renders the pages and sends each through ``DetectDocumentText``.

Textract gives LINE blocks in reading order with a confidence (0..100); lines are joined with
newlines, which is what the chunker and the cleaner expect from OCR.

Permissions the ingest function needs: ``textract:DetectDocumentText``,
``textract:StartDocumentTextDetection``, ``textract:GetDocumentTextDetection``, and
``s3:PutObject`` / ``s3:GetObject`` / ``s3:DeleteObject`` on ``<bucket>/<staging_prefix>*``
(Textract reads the staged object with the caller's credentials).
"""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from noticebot.domain.errors import UnreadableDocument
from noticebot.domain.keys import TEXTRACT_STAGING_PREFIX
from noticebot.ports.ocr import OcrEngine, OcrPage

MAX_SYNC_BYTES = 10 * 1024 * 1024  # DetectDocumentText's limit on Document.Bytes
# Textract's errors that are the document's fault (the rest - throttling, access - are ours
# and propagate, so the message is retried).
DOCUMENT_ERRORS = frozenset({"UnsupportedDocumentException", "BadDocumentException",
                             "DocumentTooLargeException", "InvalidParameterException"})


def _document_error(exc: Exception) -> UnreadableDocument | None:
    error = getattr(exc, "response", {}).get("Error", {}) if hasattr(exc, "response") else {}
    if error.get("Code") in DOCUMENT_ERRORS:
        return UnreadableDocument(
            f"OCR could not read this file (Textract: {error.get('Message') or error['Code']})")
    return None


def _client(source: Any) -> Callable[[], Any]:
    return source if callable(source) else (lambda: source)


class TextractOcr(OcrEngine):
    name = "textract"

    def __init__(self, client: Any, *, s3: Any = None, bucket: str = "",
                 staging_prefix: str = TEXTRACT_STAGING_PREFIX, poll_seconds: float = 2.0,
                 max_wait_seconds: float = 600.0, sleep: Callable[[float], None] = time.sleep):
        """``client`` / ``s3``: a boto3 client or a zero-argument provider of one (built on
        first use). ``bucket`` empty: multi-page PDFs are OCR'd page by page, synchronously."""
        self._textract = _client(client)
        self._s3 = _client(s3) if s3 is not None else None
        self.bucket = bucket
        self.staging_prefix = staging_prefix
        self.poll_seconds = poll_seconds
        self.max_wait_seconds = max_wait_seconds
        self._sleep = sleep

    # -- synchronous: one page image ------------------------------------------------------
    def recognize(self, image: bytes, *, page: int = 1, timeout: float | None = None) -> OcrPage:
        if len(image) > MAX_SYNC_BYTES:
            image = _shrink(image)
        try:
            response = self._textract().detect_document_text(Document={"Bytes": image})
        except Exception as exc:
            raise (_document_error(exc) or exc) from exc
        pages = pages_from_blocks(response.get("Blocks", []))
        found = pages.get(1) or OcrPage(text="", confidence=None)
        return OcrPage(text=found.text, confidence=found.confidence, page=page)

    # -- asynchronous: a whole PDF through S3 ---------------------------------------------
    def recognize_pdf(self, data: bytes, pages: Sequence[int], *,
                      timeout: float | None = None) -> dict[int, OcrPage] | None:
        if not self.bucket or self._s3 is None:
            return None
        key = f"{self.staging_prefix}{uuid.uuid4().hex}.pdf"
        s3 = self._s3()
        s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType="application/pdf")
        try:
            job_id = self._textract().start_document_text_detection(
                DocumentLocation={"S3Object": {"Bucket": self.bucket, "Name": key}},
            )["JobId"]
            blocks = self._wait(job_id, timeout)
        except UnreadableDocument:
            raise
        except Exception as exc:
            raise (_document_error(exc) or exc) from exc
        finally:
            s3.delete_object(Bucket=self.bucket, Key=key)
        found = pages_from_blocks(blocks)
        return {number: found[number] for number in pages if number in found}

    def _wait(self, job_id: str, timeout: float | None) -> list[dict]:
        limit = self.max_wait_seconds if timeout is None else min(timeout, self.max_wait_seconds)
        give_up = time.monotonic() + limit
        client = self._textract()
        while True:
            response = client.get_document_text_detection(JobId=job_id)
            status = response.get("JobStatus")
            if status in ("SUCCEEDED", "PARTIAL_SUCCESS"):
                break
            if status == "FAILED":
                raise UnreadableDocument(
                    "OCR of the scanned pages failed (Textract: "
                    f"{response.get('StatusMessage') or 'no reason given'})")
            if time.monotonic() + self.poll_seconds > give_up:
                raise TimeoutError(f"Textract job {job_id} still {status} after {limit:.0f} s")
            self._sleep(self.poll_seconds)
        blocks = list(response.get("Blocks", []))
        token = response.get("NextToken")
        while token:
            response = client.get_document_text_detection(JobId=job_id, NextToken=token)
            blocks.extend(response.get("Blocks", []))
            token = response.get("NextToken")
        return blocks


def pages_from_blocks(blocks: Sequence[dict]) -> dict[int, OcrPage]:
    """Textract blocks -> {page: OcrPage} from the LINE blocks, in the order Textract gives
    (reading order); confidence is the mean over lines, weighted by their length."""
    lines: dict[int, list[tuple[str, float | None]]] = {}
    for block in blocks:
        if block.get("BlockType") != "LINE":
            continue
        text = (block.get("Text") or "").strip()
        if text:
            lines.setdefault(int(block.get("Page") or 1), []).append(
                (text, block.get("Confidence")))
    pages = {}
    for number, entries in lines.items():
        scored = [(conf, len(text)) for text, conf in entries if conf is not None]
        weight = sum(n for _, n in scored)
        confidence = sum(c * n for c, n in scored) / weight if weight else None
        pages[number] = OcrPage(text="\n".join(text for text, _ in entries),
                                confidence=confidence, page=number)
    return pages


def _shrink(image: bytes) -> bytes:
    """Re-encode a page image over Textract's 10 MB request limit as JPEG (scaled if need be)."""
    from PIL import Image

    with Image.open(io.BytesIO(image)) as img:
        img = img.convert("L" if img.mode in ("1", "L") else "RGB")
        for scale in (1.0, 0.75, 0.5, 0.35):
            frame = img if scale == 1.0 else img.resize(
                (max(1, int(img.width * scale)), max(1, int(img.height * scale))))
            buffer = io.BytesIO()
            frame.save(buffer, format="JPEG", quality=85)
            if buffer.tell() <= MAX_SYNC_BYTES:
                return buffer.getvalue()
    raise ValueError("page image too large for Textract even after re-encoding")
