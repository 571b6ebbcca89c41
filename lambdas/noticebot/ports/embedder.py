"""Embedder: text -> L2-normalised float32 vectors (so inner product is cosine)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy costs ~0.1 s of cold start; the ports only name its type
    import numpy as np


class Embedder(ABC):
    model_id: str
    dimension: int
    max_tokens: int  # the model truncates beyond this; the chunker keeps chunks under it

    @abstractmethod
    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Shape (len(texts), dimension), float32, rows L2-normalised."""

    @abstractmethod
    def embed_query(self, text: str) -> np.ndarray:
        """Shape (dimension,), float32, L2-normalised."""

    @abstractmethod
    def count_tokens(self, text: str) -> int:
        """Tokens the model would see for ``text`` (without special tokens)."""
