"""Hybrid score fusion in pure Python, shared by the VectorIndex adapters that fuse client-side.

Why pure Python: the API Lambda bundle ships without numpy (50 MB limit), and a search fuses
at most a few hundred candidates, where plain floats cost microseconds. The local index keeps
its numpy twin (``local.hybrid_fusion``) for whole-segment arrays; both must rank alike, so a
unit test compares them on random inputs. Semantics, row for row:

- ``convex``: ``alpha * norm(dense) + (1 - alpha) * norm(bm25)`` over the candidate rows,
  ``norm`` min-max or z-score; a constant list maps to 1.0 where > 0 else 0.0 (min-max) or
  to 0.0 (z-score);
- ``rrf``: sum over both lists of ``1 / (RRF_K + rank)``, rank from 1;
- ``best``: fused score descending, ties by the lower row.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

RRF_K = 60


def normalise(values: Sequence[float], method: str) -> list[float]:
    """Per-query score normalisation so BM25 (unbounded) and cosine can be mixed."""
    values = [float(v) for v in values]
    if not values:
        return []
    lo, hi = min(values), max(values)
    if not hi > lo:
        # One distinct value: a constant does not change the order; 1 keeps a lone positive
        # match from scoring 0 for callers that threshold on the fused score.
        return [0.0] * len(values) if method == "zscore" else [
            1.0 if v > 0 else 0.0 for v in values]
    if method == "zscore":
        mean = math.fsum(values) / len(values)
        std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / len(values))
        return [(v - mean) / std for v in values] if std > 0 else [0.0] * len(values)
    return [(v - lo) / (hi - lo) for v in values]


def fuse(bm25: Sequence[float], dense: Sequence[float], bm25_rows: Sequence[int],
         dense_rows: Sequence[int], *, method: str, alpha: float,
         norm: str) -> tuple[list[int], list[float]]:
    """(candidate rows ascending, fused scores) for the union of both ranked row lists.

    ``bm25`` / ``dense`` hold the exact score of every row, so a candidate found by one
    retriever still gets its true score from the other before normalisation.
    """
    rows = sorted(set(bm25_rows) | set(dense_rows))
    if method == "rrf":
        fused = dict.fromkeys(rows, 0.0)
        for ranked in (bm25_rows, dense_rows):
            # A row listed twice counts once, at its last rank, like numpy's fancy-index +=.
            for row, share in {r: 1.0 / (RRF_K + 1.0 + i) for i, r in enumerate(ranked)}.items():
                fused[row] += share
        return rows, [fused[r] for r in rows]
    nd = normalise([dense[r] for r in rows], norm)
    nb = normalise([bm25[r] for r in rows], norm)
    return rows, [alpha * d + (1.0 - alpha) * b for d, b in zip(nd, nb)]


def best(rows: Sequence[int], fused: Sequence[float], k: int) -> list[tuple[int, float]]:
    """The ``k`` best (row, fused score), ties by the lower row."""
    return sorted(zip(rows, fused), key=lambda pair: (-pair[1], pair[0]))[:max(k, 0)]


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
