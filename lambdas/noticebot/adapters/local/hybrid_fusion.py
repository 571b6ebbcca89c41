"""Top-k selection and score fusion over per-row score arrays of one segment (numpy only).

The numpy twin of ``noticebot.adapters.score_fusion`` (pure Python, used where numpy is not
shipped): same semantics, checked against each other by a unit test; change both together.
"""

from __future__ import annotations

import numpy as np

from noticebot.adapters.score_fusion import RRF_K, fusion_options

__all__ = ["RRF_K", "top_rows", "normalise", "fuse", "fusion_options"]


def top_rows(scores: np.ndarray, eligible: np.ndarray, k: int) -> np.ndarray:
    """Rows of the ``k`` best eligible scores, best first (ties: lower row first).

    The mask is applied before selection, so heavy filtering never starves the result.
    """
    rows = np.flatnonzero(eligible)
    if k <= 0 or len(rows) == 0:
        return rows[:0]
    if len(rows) > k:
        rows = rows[np.argpartition(-scores[rows], k - 1)[:k]]
    return rows[np.lexsort((rows, -scores[rows]))]


def normalise(values: np.ndarray, method: str) -> np.ndarray:
    """Per-query score normalisation so BM25 (unbounded) and cosine can be mixed."""
    values = values.astype(np.float64)
    lo, hi = values.min(), values.max()
    if not hi > lo:
        # One distinct value: a constant does not change the order; 1 keeps a lone positive
        # match from scoring 0 for callers that threshold on the fused score. (Tested before
        # the z-score: a constant's computed std can be a rounding error, not 0.)
        return np.zeros_like(values) if method == "zscore" else np.where(values > 0, 1.0, 0.0)
    if method == "zscore":
        std = values.std()  # > 0 unless the spread underflows
        return (values - values.mean()) / std if std > 0 else np.zeros_like(values)
    return (values - lo) / (hi - lo)


def fuse(
    bm25: np.ndarray,
    dense: np.ndarray,
    bm25_rows: np.ndarray,
    dense_rows: np.ndarray,
    *,
    method: str,
    alpha: float,
    norm: str,
) -> tuple[np.ndarray, np.ndarray]:
    """(candidate rows, fused scores) for the union of both candidate lists.

    ``bm25`` / ``dense`` are the exact scores of every row, so a candidate found by one
    retriever still gets its true score from the other before normalisation.
    """
    rows = np.union1d(bm25_rows, dense_rows)
    if method == "rrf":
        fused = np.zeros(len(rows))
        for ranked in (bm25_rows, dense_rows):
            fused[np.searchsorted(rows, ranked)] += 1.0 / (RRF_K + 1.0 + np.arange(len(ranked)))
        return rows, fused
    fused = alpha * normalise(dense[rows], norm) + (1.0 - alpha) * normalise(bm25[rows], norm)
    return rows, fused
