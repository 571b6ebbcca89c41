"""The text/event-stream framing: what the API writes is what an EventSource reads, however
the bytes are cut on the way."""

import json

import pytest

from noticebot.handlers.api.sse import (
    Decoder,
    ServerSentEvent,
    accepts_event_stream,
    decode,
    encode,
    encode_json,
)


def test_an_event_is_its_name_then_data_then_a_blank_line():
    assert encode("token", '{"text":"Hi"}') == b'event: token\ndata: {"text":"Hi"}\n\n'
    assert encode(None, "plain") == b"data: plain\n\n"


@pytest.mark.parametrize("data", [
    "one\ntwo", "one\r\ntwo", "one\rtwo", "trailing\n", "\nleading", "", "a\n\nb",
    " starts with a space", "  two spaces", "colon: inside", "data: looks like a field",
])
def test_every_payload_comes_back_as_sent_with_the_spec_line_breaks_as_newlines(data):
    sent = encode("x", data)
    expected = data.replace("\r\n", "\n").replace("\r", "\n")
    assert list(decode([sent])) == [ServerSentEvent("x", expected)]


def test_a_multi_line_payload_is_one_data_line_per_line():
    assert encode("x", "a\r\nb\rc\nd") == b"event: x\ndata: a\ndata: b\ndata: c\ndata: d\n\n"


def test_only_the_spec_line_breaks_split_a_payload():
    # str.splitlines() also splits on these; an EventSource does not.
    data = "a\x0bb\x0cc\x1cd\x85e\u2028f\u2029g"
    assert encode(None, data).count(b"\ndata: ") == 0
    assert list(decode([encode("x", data)])) == [ServerSentEvent("x", data)]


@pytest.mark.parametrize("name", ["", "two\nlines", "cr\r"])
def test_an_event_name_is_one_non_empty_line(name):
    with pytest.raises(ValueError):
        encode(name, "x")


def test_json_data_is_one_compact_line_in_utf8():
    frame = encode_json("token", {"text": "Café\nnext line — “quoted” ✓"})
    assert frame.count(b"\n") == 3  # event, data, blank line: the newline is escaped in JSON
    [event] = decode([frame])
    assert json.loads(event.data) == {"text": "Café\nnext line — “quoted” ✓"}
    assert "Café".encode() in frame


def test_a_lone_surrogate_does_not_break_the_stream():
    [event] = decode([encode("token", "cut \ud83d")])
    assert event.data.startswith("cut ")


STREAM = (encode("token", "Grüße ✓ 🎉") + encode("token", "line one\nline two")
          + b": a comment\n\n" + encode("final", '{"answer":"ok"}'))
EVENTS = [ServerSentEvent("token", "Grüße ✓ 🎉"), ServerSentEvent("token", "line one\nline two"),
          ServerSentEvent("final", '{"answer":"ok"}')]


def test_any_cut_of_the_bytes_reads_the_same_events():
    # Every split point: inside a field name, a CRLF-free line, a blank line, a multi-byte
    # UTF-8 character (the 4-byte emoji included).
    for cut in range(len(STREAM) + 1):
        assert list(decode([STREAM[:cut], STREAM[cut:]])) == EVENTS, cut


def test_one_byte_at_a_time_reads_the_same_events():
    assert list(decode(STREAM[i:i + 1] for i in range(len(STREAM)))) == EVENTS


def test_crlf_split_between_chunks_is_one_line_break():
    crlf = b"event: a\r\ndata: 1\r\n\r\nevent: b\rdata: 2\r\r"
    for cut in range(len(crlf) + 1):
        assert list(decode([crlf[:cut], crlf[cut:]])) == [
            ServerSentEvent("a", "1"), ServerSentEvent("b", "2")], cut


def test_events_come_out_as_soon_as_their_blank_line_arrives():
    decoder = Decoder()
    assert decoder.feed(b"event: token\ndata: {}\n") == []
    assert decoder.feed(b"\n") == [ServerSentEvent("token", "{}")]


def test_an_unfinished_event_at_the_end_is_dropped():
    assert list(decode([encode("a", "1") + b"event: b\ndata: 2\n"])) == [ServerSentEvent("a", "1")]


def test_spec_details_a_reader_keeps():
    stream = "\ufeffdata:no space\nid: 7\n\nevent: e\n\ndata: after\n\n".encode()
    assert list(decode([stream])) == [ServerSentEvent("message", "no space", id="7"),
                                      ServerSentEvent("message", "after", id="7")]


@pytest.mark.parametrize("accept,streams", [
    ("text/event-stream", True),
    ("Text/Event-Stream; charset=utf-8", True),
    ("application/json, text/event-stream;q=0.5", True),
    ("text/event-stream;q=0", False),
    ("text/event-stream; q=0.0", False),
    ("*/*", False),
    ("text/*", False),
    ("application/json", False),
    ("", False),
    (None, False),
])
def test_accept_names_the_event_stream(accept, streams):
    assert accepts_event_stream(accept) is streams
