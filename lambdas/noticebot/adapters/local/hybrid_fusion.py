"""Top-k selection and score fusion over per-row score arrays of one segment (numpy only)."""

from __future__ import annotations

import numpy as np

RRF_K = 60


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
    if method == "zscore":
        std = values.std()
        return (values - values.mean()) / std if std > 0 else np.zeros_like(values)
    lo, hi = values.min(), values.max()
    if hi > lo:
        return (values - lo) / (hi - lo)
    # One distinct value: a constant does not change the order; 1 keeps a lone positive
    # match from scoring 0 for callers that threshold on the fused score.
    return np.where(values > 0, 1.0, 0.0)


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


def fusion_options(defaults: dict, options: dict | None) -> dict:
    """Validated search options (fusion, norm, alpha, candidates) over an index's defaults;
    one rule for every VectorIndex adapter that fuses client-side."""
    opts = {"norm": "minmax", **defaults, **(options or {})}
    if opts["fusion"] not in ("convex", "rrf"):
        raise ValueError(f"unknown fusion {opts['fusion']!r}; expected 'convex' or 'rrf'")
    if opts["norm"] not in ("minmax", "zscore"):
        raise ValueError(f"unknown norm {opts['norm']!r}; expected 'minmax' or 'zscore'")
    try:
        opts["alpha"], opts["candidates"] = float(opts["alpha"]), int(opts["candidates"])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"bad search options: {exc}") from exc
    if not 0.0 <= opts["alpha"] <= 1.0:
        raise ValueError("alpha must be within [0, 1]")
    if opts["candidates"] < 1:
        raise ValueError("candidates must be >= 1")
    return opts
