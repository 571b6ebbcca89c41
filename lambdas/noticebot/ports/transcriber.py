"""Speech to text. Two shapes, because the engines differ in kind, not just in speed:

- ``Transcriber`` (synchronous): audio bytes in, timed segments out, inside the ingest call.
  Locally faster-whisper (Whisper tiny.en, int8 on the CPU).
- ``TranscriptionJobs`` (asynchronous): the audio already lies in the blob store; a job is
  started, the ingest call returns with the document still "processing", and the service's
  completion event (EventBridge "Transcribe Job State Change" for Amazon Transcribe) resumes
  ingestion with ``IngestService.resume_transcription``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from noticebot.ports.ocr import EngineUnavailable

__all__ = ["EngineUnavailable", "Transcriber", "Transcript", "TranscriptSegment",
           "TranscriptionJob", "TranscriptionJobs"]


@dataclass(frozen=True)
class TranscriptSegment:
    start: float  # seconds from the start of the recording
    end: float
    text: str
    confidence: float | None = None  # 0..1 where the engine gives one


@dataclass(frozen=True)
class Transcript:
    segments: list[TranscriptSegment] = field(default_factory=list)
    duration: float | None = None  # seconds of audio, when known
    language: str | None = None

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())


class Transcriber(ABC):
    model_id: str = "transcriber"

    @abstractmethod
    def transcribe(self, audio: bytes, filename: str, *, max_seconds: float | None = None,
                   deadline: float | None = None) -> Transcript:
        """Timed segments of the speech in ``audio``.

        ``max_seconds``: longest recording accepted, checked before transcribing (raises
        UnreadableDocument naming the limit). ``deadline``: a ``time.monotonic()`` value after
        which the call gives up with TimeoutError. Undecodable audio raises
        UnreadableDocument; an engine that cannot run raises EngineUnavailable.
        """


@dataclass(frozen=True)
class TranscriptionJob:
    """What an asynchronous engine knows about one job."""

    name: str
    status: str  # "QUEUED" | "IN_PROGRESS" | "COMPLETED" | "FAILED"
    media_key: str | None = None  # the blob key of the audio (names workspace and document)
    failure_reason: str | None = None
    transcript: Transcript | None = None  # filled once COMPLETED

    @property
    def finished(self) -> bool:
        return self.status in ("COMPLETED", "FAILED")


class TranscriptionJobs(ABC):
    @abstractmethod
    def job_name(self, document_id: str) -> str:
        """The job name for a document: deterministic, so a redelivered upload event finds
        the job already started instead of starting a second one."""

    @abstractmethod
    def start(self, media_key: str, document_id: str, filename: str) -> TranscriptionJob:
        """Starts (or finds the already started) job for the audio at ``media_key``."""

    @abstractmethod
    def get(self, job_name: str) -> TranscriptionJob:
        """The job's state; with the transcript once it has COMPLETED."""
