"""A strict reader of multipart/form-data bodies (RFC 7578 on RFC 2046 framing).

Strict because a lenient reader indexes what it was never sent whole: a body cut off before
its closing boundary (a dropped connection, a client that gave up) must be refused, not
stored as a shorter document. Everything malformed is a ``MalformedMultipart`` (a 400).
"""

from __future__ import annotations

import re

from aws_lambda_powertools.event_handler.openapi.params import UploadFile

# RFC 2046 bchars: 1-70 of these, the last not a space.
BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
HEADER_PARAM = re.compile(r';\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


class MalformedMultipart(ValueError):
    pass


def header_params(value: str) -> dict[str, str]:
    """``form-data; name="file"; filename="a.pdf"`` -> {"name": "file", "filename": "a.pdf"}
    (parameter names lower-cased; quoted values unquoted)."""
    params = {}
    for name, raw in HEADER_PARAM.findall(value):
        raw = raw.strip()
        if raw.startswith('"'):
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        params[name.lower()] = raw
    return params


def boundary_of(content_type: str) -> str:
    boundary = header_params(content_type).get("boundary")
    if boundary is None:
        raise MalformedMultipart("multipart/form-data needs a boundary parameter "
                                 "(Content-Type: multipart/form-data; boundary=...)")
    if not BOUNDARY.fullmatch(boundary):
        raise MalformedMultipart("the multipart boundary is not valid (1-70 characters of "
                                 "letters, digits and '()+_,-./:=? )")
    return boundary


def _part(raw: bytes) -> tuple[str, str | UploadFile]:
    head, sep, content = raw.partition(b"\r\n\r\n")
    if not sep:
        raise MalformedMultipart("a multipart part has no blank line after its headers")
    try:
        lines = head.decode("utf-8").split("\r\n") if head else []
    except UnicodeDecodeError:
        raise MalformedMultipart("multipart part headers are not UTF-8") from None
    headers = {}
    for line in lines:
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise MalformedMultipart(f"malformed multipart part header: {line[:80]!r}")
        headers[name.strip().lower()] = value.strip()
    disposition = headers.get("content-disposition", "")
    if disposition.split(";")[0].strip().lower() != "form-data":
        raise MalformedMultipart("every multipart part needs 'Content-Disposition: form-data'")
    params = header_params(disposition)
    field = params.get("name")
    if field is None:  # "" is a name, of a field no route reads
        raise MalformedMultipart("a multipart part has no field name")
    if "filename" in params:
        return field, UploadFile(content=content, filename=params["filename"],
                                 content_type=headers.get("content-type"))
    try:
        return field, content.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedMultipart(f"multipart field '{field}' is not UTF-8 text") from None


def parse_form(body: bytes, content_type: str) -> dict[str, str | UploadFile | list]:
    """Field name -> text, or an UploadFile for a part with a filename; a name sent more
    than once gets a list (the shape Powertools' request validation expects)."""
    dash_boundary = b"--" + boundary_of(content_type).encode("ascii")
    delimiter = b"\r\n" + dash_boundary
    # A preamble before the first boundary is allowed and ignored.
    if body.startswith(dash_boundary):
        position = len(dash_boundary)
    else:
        found = body.find(delimiter)
        if found < 0:
            raise MalformedMultipart("the body does not contain the multipart boundary")
        position = found + len(delimiter)
    fields: dict[str, str | UploadFile | list] = {}
    while True:
        if body.startswith(b"--", position):
            return fields  # the closing boundary; what follows is the epilogue
        line_end = body.find(b"\r\n", position)
        if line_end < 0 or body[position:line_end].strip(b" \t"):
            raise MalformedMultipart("a multipart boundary line is malformed or cut off")
        start = line_end + 2
        end = body.find(delimiter, start)
        if end < 0:
            raise MalformedMultipart("the multipart body ends before its closing boundary "
                                     "(was the upload cut off?)")
        name, value = _part(body[start:end])
        if name in fields:
            existing = fields[name]
            fields[name] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            fields[name] = value
        position = end + len(delimiter)
