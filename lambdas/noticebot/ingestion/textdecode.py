"""Bytes -> str for text-like uploads, without ever raising.

People upload text saved by every editor there is: UTF-8 with and without BOM, UTF-16 from
Windows tools (sometimes without a BOM), and legacy Windows-1252. We honour a BOM, sniff BOM-less
UTF-16 from its NUL pattern, try strict UTF-8, then cp1252, and finally latin-1, which maps every
byte and therefore cannot fail.
"""

from __future__ import annotations

import codecs

# Longest BOMs first: the UTF-32-LE BOM starts with the UTF-16-LE one.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

_SAMPLE = 4096
# Bytes that never occur in real text (tab, LF, FF, CR and ESC excluded).
_CONTROL_BYTES = frozenset([*range(0, 9), 11, *range(14, 27), *range(28, 32)])


def bom_encoding(data: bytes) -> tuple[str, int] | None:
    """(encoding, BOM length) when ``data`` starts with a Unicode BOM."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding, len(bom)
    return None


def sniff_utf16(data: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' for BOM-less UTF-16 text that is mostly ASCII, else None.

    Such text has a NUL in every other byte (odd positions for LE, even for BE) and almost none
    at the other parity; binary data does not show that regularity.
    """
    sample = data[:_SAMPLE]
    pairs = len(sample) // 2
    if pairs < 2:
        return None
    even_nuls = sample[0 : pairs * 2 : 2].count(0)
    odd_nuls = sample[1 : pairs * 2 : 2].count(0)
    if odd_nuls >= 0.4 * pairs and even_nuls <= 0.02 * pairs:
        return "utf-16-le"
    if even_nuls >= 0.4 * pairs and odd_nuls <= 0.02 * pairs:
        return "utf-16-be"
    return None


def _utf8_lenient(data: bytes) -> str | None:
    """Mostly-valid UTF-8 (a truncated final character, a stray bad byte) decoded with
    replacements; None when the bytes are better read as a legacy single-byte encoding."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
            return data[: exc.start].decode("utf-8", errors="replace")
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    multibyte = sum(1 for ch in text if ord(ch) > 0x7F) - bad
    # Real UTF-8 multibyte characters clearly outnumber the invalid bytes: keep UTF-8.
    if multibyte >= 4 * bad and bad <= max(1, len(text) // 200):
        return text
    return None


def decode_text(data: bytes) -> str:
    """Best-effort decoding that never raises; strips any BOM."""
    bom = bom_encoding(data)
    if bom:
        encoding, skip = bom
        return data[skip:].decode(encoding, errors="replace")
    utf16 = sniff_utf16(data)
    if utf16:
        return data.decode(utf16, errors="replace")
    text = _utf8_lenient(data)
    if text is not None:
        return text
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def looks_like_text(data: bytes) -> bool:
    """True when the first KBs read as text in some encoding we decode (not binary junk)."""
    if bom_encoding(data) or sniff_utf16(data):
        return True
    sample = data[:_SAMPLE]
    if not sample:
        return True
    if 0 in sample:
        return False
    # Legacy encodings (cp1252, Shift-JIS, GBK...) pass this test too: it is binary data, not
    # non-ASCII text, that is full of NULs and control bytes.
    controls = sum(1 for b in sample if b in _CONTROL_BYTES)
    return controls <= len(sample) * 0.01


# Single-byte encodings of Latin-script languages: charset detection cannot tell them apart on
# short Western text (it reads "crème" as cp1250 "crčme"), so they all mean cp1252 here.
_LATIN_FAMILY = frozenset({
    "cp1250", "cp1252", "cp1254", "cp1257", "latin_1", "iso8859_2", "iso8859_3", "iso8859_4",
    "iso8859_9", "iso8859_10", "iso8859_13", "iso8859_14", "iso8859_15", "iso8859_16",
    "mac_roman", "mac_latin2", "mac_iceland", "mac_turkish", "cp437", "cp850", "cp858", "ascii",
})


def decode_detected(data: bytes) -> str:
    """Like ``decode_text``, but bytes that are neither UTF-8 nor UTF-16/32 are decoded in the
    encoding charset-normalizer finds (Shift-JIS, GBK, Big5, cp1251...) instead of being
    assumed cp1252. Tables exported by Excel in East Asian locales are the usual case. Never
    raises."""
    if bom_encoding(data) or sniff_utf16(data):
        return decode_text(data)
    text = _utf8_lenient(data)  # UTF-8, perhaps with a truncated end or a stray bad byte
    if text is not None:
        return text
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:262_144]).best()
    except Exception:  # noqa: BLE001 - detection is a heuristic; fall back to the plain decoder
        best = None
    encoding = best.encoding if best is not None else None
    if encoding and encoding not in _LATIN_FAMILY:
        try:
            return data.decode(encoding, errors="replace")
        except LookupError:
            pass
    return decode_text(data)
