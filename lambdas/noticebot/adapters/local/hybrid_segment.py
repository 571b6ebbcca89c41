"""In-memory search segment of ONE workspace: dense matrix, BM25 postings, filter columns.

Rows are append-only; replacing or deleting a chunk tombstones its row (``alive``) and a
compaction rewrites the arrays once tombstones pile up. Not thread-safe by itself: the
owning index serialises access.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from noticebot.adapters.local.bm25 import Bm25Postings

_NO_EXPIRY = np.inf


@dataclass(frozen=True)
class SegmentEntry:
    chunk_id: str
    document_id: str
    terms: list[str]  # analysed text + title + heading
    expires_ts: float | None  # epoch seconds


class WorkspaceSegment:
    def __init__(self, dim: int, k1: float = 1.2, b: float = 0.75, capacity: int = 1024) -> None:
        self.dim = dim
        self.n = 0  # rows used, dead ones included
        self.dead = 0
        self.vectors = np.zeros((capacity, dim), np.float32)
        self.alive = np.zeros(capacity, bool)
        self.expires = np.full(capacity, _NO_EXPIRY)
        self.chunk_ids: list[str] = []
        self.doc_of: list[str] = []
        self.row_of: dict[str, int] = {}
        self.doc_rows: dict[str, set[int]] = {}
        self.bm25 = Bm25Postings(k1, b)

    @property
    def live(self) -> int:
        return self.n - self.dead

    # ----------------------------------------------------------------- writes
    def add(self, entries: Sequence[SegmentEntry], vectors: np.ndarray) -> None:
        """Appends entries with their (L2-normalised float32) vector rows; an entry whose
        chunk_id exists replaces (tombstones) the old row."""
        # Last one wins inside a batch too (a twin would otherwise stay alive as a duplicate).
        last = {e.chunk_id: i for i, e in enumerate(entries)}
        if len(last) < len(entries):
            keep = sorted(last.values())
            entries, vectors = [entries[i] for i in keep], vectors[keep]
        if not entries:
            return
        self._grow(self.n + len(entries))
        rows = list(range(self.n, self.n + len(entries)))
        for row, e in zip(rows, entries):
            old = self.row_of.get(e.chunk_id)
            if old is not None:
                self._kill(old)
            self.row_of[e.chunk_id] = row
            self.doc_rows.setdefault(e.document_id, set()).add(row)
            self.chunk_ids.append(e.chunk_id)
            self.doc_of.append(e.document_id)
        sl = slice(self.n, self.n + len(entries))
        self.vectors[sl] = vectors
        self.expires[sl] = [_NO_EXPIRY if e.expires_ts is None else e.expires_ts for e in entries]
        # Postings before ``alive``: a row only becomes visible once fully indexed.
        self.bm25.add(rows, [e.terms for e in entries])
        self.alive[sl] = True
        self.n += len(entries)

    def remove_document(self, document_id: str) -> int:
        rows = self.doc_rows.pop(document_id, set())
        for row in rows:
            self._kill(row, drop_doc=False)
        return len(rows)

    def _kill(self, row: int, drop_doc: bool = True) -> None:
        if not self.alive[row]:
            return
        self.alive[row] = False
        self.dead += 1
        del self.row_of[self.chunk_ids[row]]
        if drop_doc:
            rows = self.doc_rows[self.doc_of[row]]
            rows.discard(row)
            if not rows:
                del self.doc_rows[self.doc_of[row]]

    def _grow(self, need: int) -> None:
        cap = len(self.alive)
        if need <= cap:
            return
        cap = max(need, int(cap * 1.5))  # 1.5x keeps the 100k x 384 matrix's slack modest
        vectors = np.zeros((cap, self.dim), np.float32)
        vectors[: self.n] = self.vectors[: self.n]
        alive = np.zeros(cap, bool)
        alive[: self.n] = self.alive[: self.n]
        expires = np.full(cap, _NO_EXPIRY)
        expires[: self.n] = self.expires[: self.n]
        self.vectors, self.alive, self.expires = vectors, alive, expires

    def maybe_compact(self, min_dead: int = 1024, ratio: float = 0.25) -> bool:
        """Rewrites the arrays without tombstones once they are a quarter of the rows: dead
        rows cost matmul time and postings length, a rewrite costs O(rows + postings)."""
        if self.dead < min_dead or self.dead < ratio * self.n:
            return False
        keep = np.flatnonzero(self.alive[: self.n])
        remap = np.full(self.n, -1, np.int64)
        remap[keep] = np.arange(len(keep))
        self.vectors = self.vectors[keep].copy()
        self.expires = self.expires[keep].copy()
        self.alive = np.ones(len(keep), bool)
        kept = keep.tolist()
        self.chunk_ids = [self.chunk_ids[i] for i in kept]
        self.doc_of = [self.doc_of[i] for i in kept]
        self.row_of = {cid: i for i, cid in enumerate(self.chunk_ids)}
        self.doc_rows = {d: {int(remap[r]) for r in rows} for d, rows in self.doc_rows.items()}
        self.bm25.compact(remap, keep)
        self.n, self.dead = len(keep), 0
        return True

    # ------------------------------------------------------------------ reads
    def allowed(self, now_ts: float, document_ids: Collection[str] | None) -> np.ndarray:
        """Rows that may be returned: live, not expired, inside the document filter."""
        mask = self.alive[: self.n] & (self.expires[: self.n] > now_ts)
        if document_ids is not None:
            in_docs = np.zeros(self.n, bool)
            for doc_id in document_ids:
                rows = self.doc_rows.get(doc_id)
                if rows:
                    in_docs[list(rows)] = True
            mask &= in_docs
        return mask

    def dense_scores(self, query: np.ndarray) -> np.ndarray:
        # einsum, not ``@``: numpy's own single-threaded SIMD loop measured 7 ms at 100k x 384
        # against 15 ms for OpenBLAS sgemv, which also stalls (~100 ms) when its threads
        # compete with the ingest worker's embedder for the two cores.
        return np.einsum("ij,j->i", self.vectors[: self.n], query.astype(np.float32, copy=False))

    def bm25_scores(self, terms: Sequence[str]) -> np.ndarray | None:
        return self.bm25.scores(terms, self.alive[: self.n])
