"""Audio (WAV, MP3, FLAC, OGG, M4A) -> transcript sections cited by time range.

The Transcriber port gives timed segments (sentences, roughly); consecutive segments are grouped
into sections of at most ``MAX_WORDS`` words and ``MAX_SECONDS`` seconds, each with the
location "HH:MM:SS-HH:MM:SS" of its first and last segment. Sections stay below the embedder's
chunk size, so a chunk and its time range are the same thing and a citation points at the
right minute of the recording.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from noticebot.domain.errors import UnreadableDocument
from noticebot.ingestion.engines import NO_ENGINES, Engines
from noticebot.ingestion.parsed import ParsedDocument, ParseLimits, Section
from noticebot.ports.transcriber import TranscriptSegment

MAX_WORDS = 90
MAX_SECONDS = 60.0


def timestamp(seconds: float) -> str:
    whole = max(0, int(seconds))
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def time_range(start: float, end: float) -> str:
    return f"{timestamp(start)}-{timestamp(end + 0.999)}"  # round the end up: it is inclusive


def transcript_sections(segments: Iterable[TranscriptSegment], max_words: int = MAX_WORDS,
                        max_seconds: float = MAX_SECONDS) -> list[Section]:
    sections: list[Section] = []
    group: list[TranscriptSegment] = []
    words = 0

    def flush() -> None:
        if group:
            text = " ".join(s.text.strip() for s in group)
            sections.append(Section(text=text, location=time_range(group[0].start, group[-1].end)))

    for segment in segments:
        if not segment.text.strip():
            continue
        n = len(segment.text.split())
        if group and (words + n > max_words or segment.end - group[0].start > max_seconds):
            flush()
            group, words = [], 0
        group.append(segment)
        words += n
    flush()
    return sections


def parse(data: bytes, filename: str, limits: ParseLimits, *,
          engines: Engines = NO_ENGINES) -> ParsedDocument:
    if engines.transcriber is None:
        raise UnreadableDocument(
            "speech in recordings cannot be transcribed here: no speech-to-text engine is "
            "configured")
    deadline = None if limits.max_seconds is None else time.monotonic() + limits.max_seconds
    transcript = engines.transcriber.transcribe(data, filename,
                                                max_seconds=limits.max_audio_seconds,
                                                deadline=deadline)
    return ParsedDocument(kind="audio", title=None,
                          sections=transcript_sections(transcript.segments))
