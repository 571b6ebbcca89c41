"""An encoder for AWS event-stream frames (application/vnd.amazon.eventstream), to record the
bytes SageMaker's InvokeEndpointWithResponseStream sends:

    prelude   total length (uint32) | headers length (uint32) | CRC32 of those 8 bytes
    headers   name length (uint8) | name | type 7 = string | value length (uint16) | value
    payload   raw bytes (a PayloadPart's Bytes; an exception's JSON)
    trailer   CRC32 of everything before it

All integers big-endian. botocore's EventStreamBuffer decodes and checks these frames, so
the tests validate the encoder with it before feeding the bytes to a real client.
"""

from __future__ import annotations

import json
import struct
from binascii import crc32

STRING = 7


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return (struct.pack("!B", len(raw_name)) + raw_name
            + struct.pack("!BH", STRING, len(raw_value)) + raw_value)


def frame(headers: dict[str, str], payload: bytes) -> bytes:
    head = b"".join(_header(k, v) for k, v in headers.items())
    prelude = struct.pack("!II", 12 + len(head) + len(payload) + 4, len(head))
    message = prelude + struct.pack("!I", crc32(prelude) & 0xFFFFFFFF) + head + payload
    return message + struct.pack("!I", crc32(message) & 0xFFFFFFFF)


def payload_part(data: bytes) -> bytes:
    return frame({":event-type": "PayloadPart", ":content-type": "application/octet-stream",
                  ":message-type": "event"}, data)


def exception(kind: str, message: str, error_code: str | None = None) -> bytes:
    body = {"Message": message, **({"ErrorCode": error_code} if error_code else {})}
    return frame({":exception-type": kind, ":content-type": "application/json",
                  ":message-type": "exception"}, json.dumps(body).encode())


def tgi_stream(tokens: list[str], final: str | None = None) -> bytes:
    """The byte stream a TGI / LMI container writes (server-sent events, one per token), as
    SageMaker frames it: payload parts cut at arbitrary places, not at line ends."""
    lines = b"".join(b"data:" + json.dumps({"token": {"text": t, "special": False}}).encode()
                     + b"\n\n" for t in tokens)
    if final is not None:
        lines += b"data:" + json.dumps({"token": {"text": "<|eot_id|>", "special": True},
                                        "generated_text": final}).encode() + b"\n\n"
    return lines


class RecordedStream:
    """What botocore reads an event stream from (urllib3's HTTPResponse): ``stream()``
    yields network chunks (cut anywhere, even inside a frame), ``close()`` frees it."""

    def __init__(self, data: bytes, chunk: int = 37):
        self.data, self.chunk, self.closed = data, chunk, False

    def stream(self, *_args, **_kwargs):
        for start in range(0, len(self.data), self.chunk):
            yield self.data[start:start + self.chunk]

    def close(self):
        self.closed = True
