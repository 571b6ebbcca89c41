"""E-mail (.eml, RFC 822/MIME) via the stdlib email package.

The message becomes one section headed by its subject: the From/To/Cc/Date/Subject lines first
(people ask "what did Sam send about the boiler"), then the text body. A text/plain part is
preferred; a message with only HTML is read through the HTML parser, so its layout chrome is
dropped the same way as a saved web page. Attachments are listed by name, type and size, not
read. Forwarded and digest messages (message/rfc822 parts) are read too.

Charsets come from each part's declaration, with the lenient decoder when a declaration is
missing or wrong; a file saved as UTF-16 is decoded before parsing. PGP/S-MIME encrypted bodies
cannot be read: such a message fails with that reason rather than indexing headers alone.
"""

from __future__ import annotations

import email
import email.policy
from email.header import decode_header, make_header
from email.message import Message

from noticebot.domain.errors import UnreadableDocument
from noticebot.ingestion.parsed import ParsedDocument, ParseLimits, Section
from noticebot.ingestion.textdecode import bom_encoding, decode_text, sniff_utf16

_HEADERS = ("From", "To", "Cc", "Date", "Subject")
_WESTERN = {"us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "windows-1252", "cp1252"}
_ENCRYPTED = {"multipart/encrypted", "application/pkcs7-mime", "application/x-pkcs7-mime",
              "application/pgp-encrypted"}


def _header(message: Message, name: str) -> str:
    raw = message.get(name)
    if raw is None:
        return ""
    try:
        text = str(make_header(decode_header(str(raw))))
    except Exception:  # noqa: BLE001 - an undecodable encoded-word: keep it as written
        text = str(raw)
    return " ".join(text.split())


def _payload_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        payload = str(part.get_payload() or "").encode("utf-8", "replace")
    charset = part.get_content_charset()
    if charset in _WESTERN and any(b > 0x7F for b in payload):
        try:  # mailers often declare ASCII/Latin-1 for what is really UTF-8
            return payload.decode("utf-8")
        except UnicodeDecodeError:
            pass
    if charset:
        try:
            return payload.decode(charset, errors="replace")
        except LookupError:
            pass
    return decode_text(payload)


def _html_text(html: str, limits: ParseLimits) -> str:
    from noticebot.ingestion.parsers.html import parse as parse_html

    doc = parse_html(html.encode("utf-8"), "message.html", limits)
    return doc.text


def _size(part: Message) -> str:
    payload = part.get_payload(decode=True)
    size = len(payload) if isinstance(payload, bytes) else 0
    return f"{size / 1024:.0f} KB" if size >= 1024 else f"{size} bytes"


def _walk(message: Message, limits: ParseLimits, plain: list[str], html: list[str],
          attachments: list[str], encrypted: list[bool]) -> None:
    for part in message.walk():
        ctype = part.get_content_type()
        if ctype in _ENCRYPTED:
            encrypted.append(True)
        if part.is_multipart():
            continue
        filename = part.get_filename()
        disposition = (part.get_content_disposition() or "").lower()
        if disposition == "attachment" or (filename and not ctype.startswith("text/")):
            name = _decoded(filename) if filename else "(unnamed)"
            attachments.append(f"{name} ({ctype}, {_size(part)})")
            continue
        if ctype == "text/plain":
            plain.append(_payload_text(part))
        elif ctype == "text/html":
            html.append(_payload_text(part))
        elif ctype == "message/rfc822":  # non-multipart container only when malformed
            continue


def _decoded(value: str) -> str:
    try:
        return " ".join(str(make_header(decode_header(value))).split())
    except Exception:  # noqa: BLE001
        return value


def parse(data: bytes, filename: str, limits: ParseLimits) -> ParsedDocument:
    if bom_encoding(data) or sniff_utf16(data):
        message = email.message_from_string(decode_text(data), policy=email.policy.compat32)
    else:
        message = email.message_from_bytes(data, policy=email.policy.compat32)
    headers = [(name, _header(message, name)) for name in _HEADERS]
    plain: list[str] = []
    html: list[str] = []
    attachments: list[str] = []
    encrypted: list[bool] = []
    _walk(message, limits, plain, html, attachments, encrypted)
    body = "\n\n".join(text.strip() for text in plain if text.strip())
    if not body and html:
        body = "\n\n".join(_html_text(text, limits) for text in html)
    if encrypted and not body.strip():
        raise UnreadableDocument(
            "encrypted e-mail (PGP or S/MIME): its text cannot be read; forward a decrypted copy")
    subject = dict(headers)["Subject"] or None
    lines = [f"{name}: {value}" for name, value in headers if value]
    if not any(dict(headers).values()) and not body.strip():
        raise UnreadableDocument("not a readable e-mail message: no headers and no text")
    parts = ["\n".join(lines), body.strip()]
    if attachments:
        parts.append("Attachments: " + "; ".join(attachments))
    text = "\n\n".join(p for p in parts if p)
    return ParsedDocument(kind="email", title=subject, sections=[
        Section(text=text, heading=subject)])
