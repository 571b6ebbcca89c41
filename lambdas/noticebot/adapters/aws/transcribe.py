"""TranscriptionJobs on Amazon Transcribe (asynchronous), and its EventBridge completion event.

Flow: the ingest function reads an audio upload's object-created event and calls ``start``:
a job named after the stage's bucket and the document (``<bucket>-tx-<document_id>``,
``noticebot.domain.keys.transcription_job_prefix``: jobs and their events are account-wide,
so each stage's EventBridge rule and IAM grant match only its own jobs), reading the upload where it
lies (``s3://<bucket>/tenants/<ws>/raw/<doc>/<file>``) and writing its JSON transcript to
``<bucket>/<output_prefix><job>.json``. The document stays "processing". When the job ends,
EventBridge delivers a "Transcribe Job State Change" event (source ``aws.transcribe``) to the
function in ``handlers/transcription.py``, which calls ``IngestService.resume_transcription``:
``get`` reads the job (its media URI names the workspace and document) and, once COMPLETED,
the transcript file; the service groups the timed segments into chunks cited by time range.

The job name is deterministic, so a redelivered upload event meets ``ConflictException`` and
adopts the existing job instead of paying for a second one.

Permissions the ingest function needs: ``transcribe:StartTranscriptionJob``,
``transcribe:GetTranscriptionJob``, ``transcribe:DeleteTranscriptionJob`` on
``transcription-job/<prefix>*``, ``s3:GetObject`` on the uploads, ``s3:PutObject`` and
``s3:GetObject`` on ``<output_prefix>*`` (Transcribe writes the output with the caller's
permissions; with SSE-KMS also ``kms:GenerateDataKey`` / ``kms:Decrypt``). EventBridge rule:
``{"source": ["aws.transcribe"], "detail-type": ["Transcribe Job State Change"], "detail":
{"TranscriptionJobName": [{"prefix": "<prefix>"}], "TranscriptionJobStatus": ["COMPLETED",
"FAILED"]}}`` (cdk/constructs/ingestion.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlparse

from noticebot.domain.keys import TRANSCRIPTS_PREFIX, transcription_job_prefix
from noticebot.ports.transcriber import (
    TranscriptionJob,
    TranscriptionJobs,
    Transcript,
    TranscriptSegment,
)

EVENT_SOURCE = "aws.transcribe"
EVENT_DETAIL_TYPE = "Transcribe Job State Change"
# Transcribe's MediaFormat values by file extension (omitted when unknown: it then detects).
MEDIA_FORMATS = {".mp3": "mp3", ".mp4": "mp4", ".m4a": "m4a", ".wav": "wav", ".flac": "flac",
                 ".ogg": "ogg", ".oga": "ogg", ".opus": "ogg", ".webm": "webm", ".amr": "amr"}
_NAME_CHARS = re.compile(r"[^0-9a-zA-Z._-]")
SENTENCE_END = (".", "?", "!")
PAUSE_SECONDS = 1.5  # a silence this long ends a segment when the output has no audio_segments


def _client(source: Any) -> Callable[[], Any]:
    return source if callable(source) else (lambda: source)


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return response.get("Error", {}).get("Code", "")


class TranscribeJobs(TranscriptionJobs):
    def __init__(self, client: Any, *, s3: Any, bucket: str,
                 output_prefix: str = TRANSCRIPTS_PREFIX, language_code: str | None = "en-US",
                 job_prefix: str | None = None):
        """``client`` / ``s3``: boto3 clients or zero-argument providers of them.
        ``language_code`` None: Transcribe identifies the language itself. ``job_prefix``:
        default ``transcription_job_prefix(bucket)``, which the stage's rule matches."""
        self._transcribe = _client(client)
        self._s3 = _client(s3)
        self.bucket = bucket
        self.output_prefix = output_prefix
        self.language_code = language_code
        self.job_prefix = job_prefix if job_prefix is not None else transcription_job_prefix(bucket)

    def job_name(self, document_id: str) -> str:
        return (self.job_prefix + _NAME_CHARS.sub("-", document_id))[:200]

    def owns(self, job_name: str) -> bool:
        """Whether a job (of an EventBridge event) is one this deployment started."""
        return job_name.startswith(self.job_prefix)

    def output_key(self, job_name: str) -> str:
        return f"{self.output_prefix}{job_name}.json"

    def start(self, media_key: str, document_id: str, filename: str) -> TranscriptionJob:
        name = self.job_name(document_id)
        params: dict[str, Any] = {
            "TranscriptionJobName": name,
            "Media": {"MediaFileUri": f"s3://{self.bucket}/{media_key}"},
            "OutputBucketName": self.bucket,
            "OutputKey": self.output_key(name),
        }
        if self.language_code:
            params["LanguageCode"] = self.language_code
        else:
            params["IdentifyLanguage"] = True
        media_format = MEDIA_FORMATS.get(PurePosixPath(filename).suffix.lower())
        if media_format:
            params["MediaFormat"] = media_format
        client = self._transcribe()
        try:
            response = client.start_transcription_job(**params)
        except Exception as exc:
            if _error_code(exc) != "ConflictException":
                raise
            existing = self.get(name)  # a redelivered event: the job exists already
            if existing.status != "FAILED":
                return existing
            client.delete_transcription_job(TranscriptionJobName=name)  # a retry after failure
            response = client.start_transcription_job(**params)
        job = response["TranscriptionJob"]
        return TranscriptionJob(name=name, status=job.get("TranscriptionJobStatus", "QUEUED"),
                                media_key=media_key)

    def get(self, job_name: str) -> TranscriptionJob:
        job = self._transcribe().get_transcription_job(
            TranscriptionJobName=job_name)["TranscriptionJob"]
        status = job.get("TranscriptionJobStatus", "")
        media_key = key_of_uri((job.get("Media") or {}).get("MediaFileUri", ""), self.bucket)
        transcript = None
        if status == "COMPLETED":
            body = self._s3().get_object(Bucket=self.bucket, Key=self.output_key(job_name))["Body"]
            transcript = parse_transcript(json.loads(body.read()))
        return TranscriptionJob(name=job_name, status=status, media_key=media_key,
                                failure_reason=job.get("FailureReason"), transcript=transcript)


def key_of_uri(uri: str, bucket: str) -> str | None:
    """The object key of ``s3://bucket/key`` or of an https S3 URL of ``bucket``."""
    parsed = urlparse(uri)
    if parsed.scheme == "s3":
        return unquote(parsed.path.lstrip("/")) if parsed.netloc == bucket else None
    if parsed.scheme == "https":
        path = unquote(parsed.path.lstrip("/"))
        if parsed.netloc.startswith(f"{bucket}.s3"):  # virtual-hosted style
            return path
        if path.startswith(f"{bucket}/"):  # path style
            return path[len(bucket) + 1:]
    return None


def parse_transcript(output: dict) -> Transcript:
    """Transcribe's output JSON -> timed segments.

    Newer outputs carry ``results.audio_segments`` (timed utterances); older ones only the
    word ``items``, which are grouped into sentences here (at . ? ! or a long pause).
    """
    results = output.get("results") or {}
    segments: list[TranscriptSegment] = []
    for segment in results.get("audio_segments") or []:
        text = (segment.get("transcript") or "").strip()
        if text:
            segments.append(TranscriptSegment(start=float(segment.get("start_time") or 0),
                                              end=float(segment.get("end_time") or 0), text=text))
    if not segments:
        segments = _segments_from_items(results.get("items") or [])
    language = output.get("results", {}).get("language_code")
    end = max((s.end for s in segments), default=None)
    return Transcript(segments=segments, duration=end, language=language)


def _segments_from_items(items: list[dict]) -> list[TranscriptSegment]:
    segments: list[TranscriptSegment] = []
    words: list[str] = []
    confidences: list[float] = []
    start = end = None

    def flush() -> None:
        nonlocal words, confidences, start, end
        if words and start is not None:
            segments.append(TranscriptSegment(
                start=start, end=end if end is not None else start, text="".join(words).strip(),
                confidence=sum(confidences) / len(confidences) if confidences else None))
        words, confidences, start, end = [], [], None, None

    for item in items:
        alternative = (item.get("alternatives") or [{}])[0]
        content = alternative.get("content") or ""
        if item.get("type") == "punctuation":
            words.append(content)
            if content in SENTENCE_END:
                flush()
            continue
        item_start = float(item.get("start_time") or 0)
        if end is not None and item_start - end > PAUSE_SECONDS:
            flush()
        if start is None:
            start = item_start
        end = float(item.get("end_time") or item_start)
        words.append(" " + content)
        try:
            confidences.append(float(alternative.get("confidence")))
        except (TypeError, ValueError):
            pass
    flush()
    return segments


@dataclass(frozen=True)
class JobStateChange:
    job_name: str
    status: str  # "COMPLETED" | "FAILED"
    failure_reason: str | None = None


def parse_job_state_change(event: dict) -> JobStateChange | None:
    """The EventBridge "Transcribe Job State Change" event, or None for any other event."""
    if not isinstance(event, dict):
        return None
    if event.get("source") != EVENT_SOURCE or event.get("detail-type") != EVENT_DETAIL_TYPE:
        return None
    detail = event.get("detail") or {}
    name, status = detail.get("TranscriptionJobName"), detail.get("TranscriptionJobStatus")
    if not name or not status:
        return None
    return JobStateChange(job_name=name, status=status, failure_reason=detail.get("FailureReason"))
