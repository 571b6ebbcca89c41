"""Decide what kind of document an upload is: content first, then extension, then declared type.

Content wins because names and browser-declared MIME types lie (an HTML error page saved as
``report.pdf``, a ``.doc`` that is really a .docx). The extension breaks ties for formats that
have no signature (Markdown vs plain text), and the declared type is the last resort.

Kinds returned here that have no registered parser fail later with "unsupported file type: ...",
so a new format only needs a parser module, never a change to the failure path.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import PurePosixPath

from noticebot.ingestion.textdecode import bom_encoding, decode_text, looks_like_text

# Human labels for kinds, used in the messages shown on failed documents.
KIND_LABELS: dict[str, str] = {
    "pdf": "PDF", "html": "HTML page", "markdown": "Markdown", "text": "plain text",
    "docx": "Word document (.docx)", "doc": "legacy Word document (.doc)",
    "xlsx": "Excel workbook (.xlsx)", "xls": "legacy Excel workbook (.xls)",
    "pptx": "PowerPoint presentation (.pptx)", "ppt": "legacy PowerPoint presentation (.ppt)",
    "odt": "OpenDocument text (.odt)", "ods": "OpenDocument spreadsheet (.ods)",
    "odp": "OpenDocument presentation (.odp)", "epub": "EPUB e-book", "rtf": "RTF document",
    "csv": "CSV table", "tsv": "TSV table", "json": "JSON data", "xml": "XML data",
    "email": "e-mail message (.eml)", "msg": "Outlook message (.msg)",
    "ole": "legacy Microsoft Office file", "encrypted-office": "password protected Office document",
    "image": "image", "audio": "audio recording", "video": "video",
    "zip": "zip archive (upload the documents inside it instead)",
    "archive": "compressed archive (upload the documents inside it instead)",
    "unsupported": "not a recognised document format (binary data)",
}

_EXTENSIONS: dict[str, str] = {
    ".pdf": "pdf", ".html": "html", ".htm": "html", ".xhtml": "html", ".shtml": "html",
    ".md": "markdown", ".markdown": "markdown", ".mdown": "markdown", ".mkd": "markdown",
    ".txt": "text", ".text": "text", ".log": "text", ".rst": "text", ".org": "text",
    ".tex": "text", ".yaml": "text", ".yml": "text", ".ini": "text", ".cfg": "text",
    ".docx": "docx", ".docm": "docx", ".doc": "doc", ".xlsx": "xlsx", ".xlsm": "xlsx",
    ".xls": "xls", ".pptx": "pptx", ".ppt": "ppt", ".odt": "odt", ".ods": "ods", ".odp": "odp",
    ".epub": "epub", ".rtf": "rtf", ".csv": "csv", ".tsv": "tsv", ".json": "json",
    ".ndjson": "json", ".jsonl": "json", ".ipynb": "json", ".xml": "xml", ".xsl": "xml",
    ".eml": "email", ".msg": "msg", ".zip": "zip", ".gz": "archive", ".tgz": "archive",
    ".7z": "archive", ".rar": "archive",
    **dict.fromkeys((".png", ".jpg", ".jpeg", ".gif", ".tif", ".tiff", ".bmp", ".webp",
                     ".heic", ".heif"), "image"),
    **dict.fromkeys((".wav", ".mp3", ".flac", ".ogg", ".oga", ".m4a", ".aac", ".opus"), "audio"),
    **dict.fromkeys((".mp4", ".mov", ".avi", ".mkv", ".webm"), "video"),
}

_MIME_TYPES: dict[str, str] = {
    "application/pdf": "pdf", "text/html": "html", "application/xhtml+xml": "html",
    "text/markdown": "markdown", "text/x-markdown": "markdown", "text/plain": "text",
    "text/csv": "csv", "text/tab-separated-values": "tsv", "application/json": "json",
    "application/x-ndjson": "json", "text/xml": "xml", "application/xml": "xml",
    "message/rfc822": "email", "application/vnd.ms-outlook": "msg", "text/rtf": "rtf",
    "application/rtf": "rtf", "application/msword": "doc", "application/vnd.ms-excel": "xls",
    "application/vnd.ms-powerpoint": "ppt", "application/zip": "zip",
    "application/epub+zip": "epub",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.oasis.opendocument.presentation": "odp",
}

# Formats that are text on disk: a text-looking file with one of these names is that format.
TEXT_KINDS = frozenset({"html", "markdown", "text", "csv", "tsv", "json", "xml", "email", "rtf"})

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OLE_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")  # stream holding an encrypted OOXML file
_ODF_MIMETYPES = {
    b"application/vnd.oasis.opendocument.text": "odt",
    b"application/vnd.oasis.opendocument.spreadsheet": "ods",
    b"application/vnd.oasis.opendocument.presentation": "odp",
    b"application/epub+zip": "epub",
}
_PDF_HEADER = re.compile(rb"%PDF-\d\.\d")
_HTML_START = re.compile(r"<!doctype\s+html|<html[\s>]", re.IGNORECASE)
_XML_PROLOG = re.compile(r"<\?xml[^>]*\?>", re.IGNORECASE)
_LEADING_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def _extension_kind(filename: str) -> str | None:
    return _EXTENSIONS.get(PurePosixPath(filename.replace("\\", "/")).suffix.lower())


def _declared_kind(declared_type: str | None) -> str | None:
    if not declared_type:
        return None
    mime = declared_type.split(";", 1)[0].strip().lower()
    if mime in _MIME_TYPES:
        return _MIME_TYPES[mime]
    major = mime.split("/", 1)[0]
    if major in ("image", "audio", "video"):
        return major
    return "text" if major == "text" else None  # application/octet-stream says nothing


def _zip_kind(data: bytes) -> str | None:
    """OOXML / OpenDocument / EPUB are zip files; their member names say which one."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if "mimetype" in names:
                with archive.open("mimetype") as member:
                    kind = _ODF_MIMETYPES.get(member.read(100).strip())
                if kind:
                    return kind
    except Exception:  # noqa: BLE001 - a damaged zip is judged by its extension instead
        return None
    for prefix, kind in (("word/", "docx"), ("xl/", "xlsx"), ("ppt/", "pptx")):
        if any(name.startswith(prefix) for name in names):
            return kind
    return "zip"


def _magic_kind(data: bytes, ext_kind: str | None) -> str | None:
    """The kind given by a file signature, or None when the bytes have no known one."""
    head = data[:16]
    if _PDF_HEADER.search(data[:1024]):  # readers accept junk before the header; so do we
        return "pdf"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return _zip_kind(data) or (ext_kind if ext_kind in {"docx", "xlsx", "pptx", "odt", "ods",
                                                            "odp", "epub"} else "zip")
    if head.startswith(_OLE):
        if _OLE_ENCRYPTED in data[:1 << 20]:
            return "encrypted-office"
        return ext_kind if ext_kind in {"doc", "xls", "ppt", "msg"} else "ole"
    if head.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a",
                        b"II*\x00", b"MM\x00*")):
        return "image"
    if head.startswith(b"BM") and (ext_kind == "image"
                                   or int.from_bytes(data[2:6], "little") == len(data)):
        return "image"
    if head.startswith(b"RIFF") and data[8:12] in (b"WAVE", b"WEBP", b"AVI "):
        return {b"WAVE": "audio", b"WEBP": "image", b"AVI ": "video"}[data[8:12]]
    if head.startswith((b"ID3", b"fLaC", b"OggS")) or (
        len(data) > 1 and data[0] == 0xFF and data[1] in (0xFB, 0xFA, 0xF3, 0xF2, 0xE3)
    ):
        return "audio"
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in (b"heic", b"heix", b"mif1", b"avif"):
            return "image"
        return "audio" if brand.startswith(b"M4A") else "video"
    if head.startswith(b"{\\rtf"):
        return "rtf"
    if head.startswith((b"\x1f\x8b", b"7z\xbc\xaf\x27\x1c", b"Rar!\x1a\x07", b"\xfd7zXZ\x00")):
        return "archive"
    return None


def sniff_markup(data: bytes) -> str | None:
    """'html' when the first KB starts like an HTML page, 'xml' for other XML, else None."""
    head = data[:1024]
    if bom_encoding(head) is None and b"<" not in head:
        return None
    text = decode_text(head).lstrip("\ufeff \t\r\n")
    xml = _XML_PROLOG.match(text)
    if xml:
        text = text[xml.end():].lstrip()
    while text.startswith("<!--"):
        comment = _LEADING_COMMENT.match(text)
        if not comment:
            break
        text = text[comment.end():].lstrip()
    if _HTML_START.match(text):
        return "html"
    return "xml" if xml else None


def detect_kind(data: bytes, filename: str, declared_type: str | None = None) -> str:
    ext_kind = _extension_kind(filename)
    magic = _magic_kind(data, ext_kind)
    if magic:
        return magic
    if looks_like_text(data):
        markup = sniff_markup(data)
        if markup == "html" or (markup == "xml" and ext_kind not in ("html", "markdown")):
            return markup
        # A text file named .pdf/.docx stays that kind, so its parser can say it is damaged.
        return ext_kind or _declared_kind(declared_type) or "text"
    # Binary without a known signature: a binary format's name may still be right (a damaged
    # file); a text name on binary bytes is junk.
    for kind in (ext_kind, _declared_kind(declared_type)):
        if kind and kind not in TEXT_KINDS:
            return kind
    return "unsupported"
