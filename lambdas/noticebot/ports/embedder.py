"""Embedder: text -> L2-normalised float32 vectors (so inner product is cosine).

Vectors are numpy arrays when the model runs in process, and lists of floats when they come
from the embedder function (the API function ships without numpy); consumers treat them as
sequences of numbers."""

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
    def embed_documents(self, texts: Sequence[str]) -> np.ndarray | list[list[float]]:
        """len(texts) rows of ``dimension`` float32 values, L2-normalised."""

    @abstractmethod
    def embed_query(self, text: str) -> np.ndarray | list[float]:
        """``dimension`` float32 values, L2-normalised."""

    @abstractmethod
    def count_tokens(self, text: str) -> int:
        """Tokens the model would see for ``text`` (without special tokens)."""
