"""Decompression-bomb guard for zip-based formats (docx, xlsx, pptx, odt, ods, epub).

A 50 KB .xlsx can hold a member that inflates to gigabytes; the Office libraries would inflate
it into memory and take the worker down. The zip central directory states every member's
compressed and uncompressed size, so the guard refuses a file from its directory alone, before
any parser inflates a byte: too many members, too much in total, or a member that expands by
more than ``max_zip_ratio`` once past a grace size (real XML compresses 10-50x; zeros 1000x).

Python's zipfile never inflates a member past its declared size (it stops with a CRC error),
so declared sizes are a real bound, not a hint.
"""

from __future__ import annotations

import io
import zipfile

from noticebot.domain.errors import UnreadableDocument
from noticebot.ingestion.parsed import ParseLimits

ZIP_KINDS = frozenset({"docx", "xlsx", "pptx", "odt", "ods", "odp", "epub"})


def _mb(size: float) -> str:
    return f"{size / (1024 * 1024):,.0f} MB"


def check_zip(data: bytes, limits: ParseLimits, label: str = "file") -> None:
    """Raise UnreadableDocument when the zip's directory promises a decompression bomb.

    A file that is not a zip at all is left to its parser (which says it is damaged).
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return
    if len(members) > limits.max_zip_entries:
        raise UnreadableDocument(
            f"refused as a possible decompression bomb: the {label} holds {len(members):,} "
            f"files inside (limit {limits.max_zip_entries:,})")
    total = 0
    for member in members:
        size = max(member.file_size, 0)
        total += size
        ratio = size / max(member.compress_size, 1)
        if size > limits.zip_ratio_grace_bytes and ratio > limits.max_zip_ratio:
            raise UnreadableDocument(
                f"refused as a possible decompression bomb: {member.filename!r} inside the "
                f"{label} expands {ratio:,.0f} times to {_mb(size)} "
                f"(limit {limits.max_zip_ratio:,.0f} times)")
    if total > limits.max_unzipped_bytes:
        raise UnreadableDocument(
            f"refused as a possible decompression bomb: the {label} expands to {_mb(total)} "
            f"(limit {_mb(limits.max_unzipped_bytes)})")
