"""Fixtures for the embedded hybrid index tests: a temp-folder index and a tiny,
deterministic hashing embedder (bag of words -> signed buckets), so no model is loaded."""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pytest

from noticebot.adapters.local.hybrid_index import EmbeddedHybridIndex
from noticebot.domain.models import Chunk

DIM = 64


def hash_embed(text: str, dim: int = DIM) -> np.ndarray:
    vec = np.zeros(dim, np.float32)
    for word in re.findall(r"\w+", text.lower()):
        digest = hashlib.md5(word.encode()).digest()
        vec[digest[0] % dim] += 1.0 if digest[1] % 2 else -1.0
    norm = np.linalg.norm(vec)
    return vec / norm if norm else vec


def axis(i: int, dim: int = DIM, lean: dict[int, float] | None = None) -> np.ndarray:
    """Unit vector along axis ``i``, optionally leaning towards other axes."""
    vec = np.zeros(dim, np.float32)
    vec[i] = 1.0
    for j, w in (lean or {}).items():
        vec[j] = w
    return vec / np.linalg.norm(vec)


@pytest.fixture
def embed():
    return hash_embed


@pytest.fixture(name="axis")
def axis_fixture():
    return axis


@pytest.fixture
def make_chunk():
    def make(chunk_id: str, document_id: str, text: str, vector=None, ordinal: int = 0, **kw):
        vec = hash_embed(text) if vector is None else np.asarray(vector, np.float32)
        return Chunk(chunk_id=chunk_id, document_id=document_id, ordinal=ordinal, text=text,
                     vector=tuple(float(x) for x in vec), **kw)

    return make


@pytest.fixture
def index_dir(tmp_path):
    return tmp_path / "index"


@pytest.fixture
def index(index_dir):
    idx = EmbeddedHybridIndex(index_dir)
    yield idx
    idx.close()
