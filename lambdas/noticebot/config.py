"""Settings read once from the environment. Nothing here touches the network or disk."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    mode: str = "local"  # "local" (embedded default) or "aws"
    data_dir: Path = Path(".noticebot")
    # API Gateway caps a synchronous payload at 10 MB and Lambda at 6 MB; base64 costs a third,
    # so direct multipart uploads stay well under; larger files use presigned uploads.
    max_upload_bytes: int = 4 * 1024 * 1024
    max_query_chars: int = 2000
    chunk_max_tokens: int = 200
    chunk_overlap_tokens: int = 40
    search_top_k: int = 5
    chat_top_k: int = 4
    chat_max_new_tokens: int = 200
    history_turns: int = 4

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(
            mode=os.environ.get("NOTICEBOT_MODE", "local"),
            data_dir=Path(os.environ.get("NOTICEBOT_DATA", ".noticebot")),
            max_upload_bytes=_int("NOTICEBOT_MAX_UPLOAD_BYTES", cls.max_upload_bytes),
            chat_max_new_tokens=_int("NOTICEBOT_CHAT_MAX_NEW_TOKENS", cls.chat_max_new_tokens),
        )
