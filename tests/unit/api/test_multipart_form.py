"""The strict multipart/form-data reader on its own: what RFC 2046 framing allows is read,
anything cut off or malformed is refused."""

import pytest

from noticebot.handlers.api.multipart_form import MalformedMultipart, parse_form

CT = "multipart/form-data; boundary=XyZ"


def part(name: str, value: bytes, filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    return f"--XyZ\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + value + b"\r\n"


def test_fields_files_preamble_and_epilogue():
    body = (b"a preamble nobody reads\r\n" + part("metadata", b'{"title": "T"}')
            + part("file", b"\x00\x01binary\r\n--not-the-boundary", "a.bin")
            + b"--XyZ--\r\nan epilogue")
    form = parse_form(body, CT)
    assert form["metadata"] == '{"title": "T"}'
    assert form["file"].filename == "a.bin"
    assert form["file"].content == b"\x00\x01binary\r\n--not-the-boundary"


def test_a_repeated_name_is_a_list_and_an_empty_name_is_a_name():
    form = parse_form(part("tag", b"a") + part("tag", b"b") + part("", b"c") + b"--XyZ--", CT)
    assert form == {"tag": ["a", "b"], "": "c"}


@pytest.mark.parametrize("body,problem", [
    (part("file", b"half a file", "a.txt"), "closing boundary"),
    (part("file", b"x", "a.txt")[:-2], "closing boundary"),
    (b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\nno blank line--XyZ--", "closing"),
    (b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\xff\xfe\r\n--XyZ--", "UTF-8"),
    (b"--XyZ\r\nBroken header line\r\n\r\nx\r\n--XyZ--", "header"),
    (b"--XyZjunk\r\n" + part("a", b"x")[5:] + b"--XyZ--", "boundary line"),
])
def test_malformed_framing_is_refused(body, problem):
    with pytest.raises(MalformedMultipart, match=problem):
        parse_form(body, CT)


@pytest.mark.parametrize("content_type", [
    "multipart/form-data", "multipart/form-data; boundary=", 'multipart/form-data; boundary="a\nb"',
    "multipart/form-data; boundary=" + "x" * 71,
])
def test_a_missing_or_invalid_boundary_is_refused(content_type):
    with pytest.raises(MalformedMultipart, match="boundary"):
        parse_form(b"--x--", content_type)
