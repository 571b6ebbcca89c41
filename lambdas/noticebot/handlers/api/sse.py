"""Server-Sent Events: the ``text/event-stream`` framing (WHATWG HTML, "Server-sent events"),
written by the API and read back by its Python clients and tests.

An event is a block of ``field: value`` lines ended by a blank line. A value that spans lines
is sent as one ``data:`` line per line, which a reader joins with ``\\n``; the spec's line
breaks are CRLF, LF and CR, and nothing else (not the other characters ``str.splitlines``
splits on), so a payload is split and joined on exactly those. The stream is UTF-8.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

CONTENT_TYPE = "text/event-stream"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class ServerSentEvent:
    event: str = "message"  # the spec's type when a block names none
    data: str = ""
    id: str | None = None


def encode(event: str | None, data: str) -> bytes:
    """One event block. ``event`` None sends no ``event:`` line (a reader sees "message")."""
    if event is not None and (not event or _LINE_BREAK.search(event)):
        raise ValueError("an event name is one non-empty line")
    lines = [f"event: {event}"] if event is not None else []
    # One space after the colon, always: a reader strips exactly one, so a value that itself
    # starts with a space keeps it.
    lines += [f"data: {line}" for line in _LINE_BREAK.split(data)]
    # A lone surrogate (text cut mid-pair) has no UTF-8 form; it becomes U+FFFD's stand-in.
    return ("\n".join(lines) + "\n\n").encode("utf-8", "replace")


def encode_json(event: str, value) -> bytes:
    """An event whose data is ``value`` as one line of compact JSON."""
    return encode(event, json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def accepts_event_stream(accept: str | None) -> bool:
    """Whether an ``Accept`` header names ``text/event-stream`` (with a non-zero q). Wildcards
    do not count: ``*/*`` is what every HTTP client sends without asking for anything."""
    for media_range in (accept or "").split(","):
        media, *params = (part.strip() for part in media_range.split(";"))
        if media.lower() != CONTENT_TYPE:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
        if quality > 0:
            return True
    return False


class Decoder:
    """Bytes in, events out, as a browser's EventSource reads them: chunks may split an event,
    a line, a CRLF pair or a UTF-8 sequence anywhere."""

    def __init__(self):
        self._text = codecs.getincrementaldecoder("utf-8")("replace")
        self._pending = ""
        self._started = False
        self._event = ""
        self._data: list[str] = []
        self._id: str | None = None
        self.last_event_id: str | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        return self._lines(self._text.decode(chunk), final=False)

    def close(self) -> list[ServerSentEvent]:
        """The stream ended. An event without its closing blank line is dropped, as the spec
        says: the sender did not finish it."""
        return self._lines(self._text.decode(b"", final=True), final=True)

    def _lines(self, text: str, *, final: bool) -> list[ServerSentEvent]:
        text = self._pending + text
        if not self._started and text:
            self._started = True
            text = text.removeprefix("\ufeff")
        # A CR at the very end may be the first half of a CRLF still in flight: kept back
        # until the next chunk says.
        held = "\r" if not final and text.endswith("\r") else ""
        parts = _LINE_BREAK.split(text[:-1] if held else text)
        self._pending = parts.pop() + held
        out = []
        for line in parts:
            event = self._line(line)
            if event is not None:
                out.append(event)
        return out

    def _line(self, line: str) -> ServerSentEvent | None:
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment (a keep-alive)
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self._id = value
        return None  # "retry" and unknown fields change nothing a reader of this API uses

    def _dispatch(self) -> ServerSentEvent | None:
        if self._id is not None:
            self.last_event_id = self._id
        data, name = self._data, self._event
        self._data, self._event = [], ""
        if not data:
            return None
        return ServerSentEvent(event=name or "message", data="\n".join(data),
                               id=self.last_event_id)


def decode(chunks: Iterable[bytes]) -> Iterator[ServerSentEvent]:
    """The events of a byte stream, each as soon as its block is complete."""
    decoder = Decoder()
    for chunk in chunks:
        yield from decoder.feed(chunk)
    yield from decoder.close()
