"""The pure-Python fusion (OpenSearch adapter, no numpy in the API bundle) and the numpy one
(local index) must rank alike: same candidate rows, same fused scores, same order, ties
included, for every method and normalisation."""

import random

import numpy as np
import pytest

from noticebot.adapters import score_fusion
from noticebot.adapters.local import hybrid_fusion


def scores(rng: random.Random, n: int) -> list[float]:
    """Continuous scores, or few distinct values (ties), or one constant (incl. all zero)."""
    kind = rng.choice(["continuous", "ties", "constant", "zero"])
    if kind == "continuous":
        return [rng.uniform(-1.0, 12.0) for _ in range(n)]
    if kind == "ties":
        return [float(rng.randint(0, 3)) for _ in range(n)]
    return [rng.choice([0.1, 0.3, 2.5, -0.4]) if kind == "constant" else 0.0] * n


def ranked(rng: random.Random, n: int) -> list[int]:
    return rng.sample(range(n), rng.randint(0, n))


def numpy_ranking(bm25, dense, bm25_rows, dense_rows, **opts):
    rows, fused = hybrid_fusion.fuse(np.array(bm25), np.array(dense),
                                     np.array(bm25_rows, dtype=np.int64),
                                     np.array(dense_rows, dtype=np.int64), **opts)
    order = rows[np.lexsort((rows, -fused))]
    return rows.tolist(), fused.tolist(), order.tolist()


OPTIONS = [{"method": "rrf", "alpha": 0.5, "norm": "minmax"}] + [
    {"method": "convex", "alpha": alpha, "norm": norm}
    for norm in ("minmax", "zscore") for alpha in (0.0, 0.3, 0.5, 1.0)]


@pytest.mark.parametrize("opts", OPTIONS, ids=lambda o: f"{o['method']}-{o['norm']}-{o['alpha']}")
def test_pure_python_fusion_agrees_with_numpy_on_random_inputs(opts):
    rng = random.Random(f"{opts}")
    for _ in range(300):
        n = rng.randint(1, 40)
        bm25, dense = scores(rng, n), scores(rng, n)
        bm25_rows, dense_rows = ranked(rng, n), ranked(rng, n)
        if not bm25_rows and not dense_rows:
            bm25_rows = [rng.randrange(n)]
        rows, fused, order = numpy_ranking(bm25, dense, bm25_rows, dense_rows, **opts)
        pure_rows, pure_fused = score_fusion.fuse(bm25, dense, bm25_rows, dense_rows, **opts)
        assert pure_rows == rows
        assert pure_fused == pytest.approx(fused, rel=1e-12, abs=1e-12)
        assert [r for r, _ in score_fusion.best(pure_rows, pure_fused, n)] == order
        k = rng.randint(0, n)
        assert score_fusion.best(pure_rows, pure_fused, k) == \
            score_fusion.best(pure_rows, pure_fused, n)[:k]


def test_ties_go_to_the_lower_row_and_constants_normalise_as_documented():
    rows, fused = score_fusion.fuse([2.0, 2.0, 2.0], [0.5, 0.5, 0.5], [2, 0], [1],
                                    method="convex", alpha=0.5, norm="minmax")
    assert (rows, fused) == ([0, 1, 2], [1.0, 1.0, 1.0])
    assert score_fusion.best(rows, fused, 2) == [(0, 1.0), (1, 1.0)]
    assert score_fusion.normalise([0.0, 0.0], "minmax") == [0.0, 0.0]
    # A constant's numpy std can be a rounding error (0.3 x 10); both give zeros, not -1.
    assert score_fusion.normalise([0.3] * 10, "zscore") == [0.0] * 10
    assert hybrid_fusion.normalise(np.full(10, 0.3), "zscore").tolist() == [0.0] * 10
    assert score_fusion.normalise([], "zscore") == []


def test_rrf_ranks_from_one_with_k_60():
    rows, fused = score_fusion.fuse([0.0] * 3, [0.0] * 3, [0, 1], [1], method="rrf",
                                    alpha=0.5, norm="minmax")
    assert rows == [0, 1]
    assert fused == [1 / 61, 1 / 62 + 1 / 61]


def test_fusion_options_is_one_function_for_both_indexes():
    assert hybrid_fusion.fusion_options is score_fusion.fusion_options
    assert hybrid_fusion.RRF_K == score_fusion.RRF_K == 60
