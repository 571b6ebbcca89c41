"""The benchmark's metric functions on tiny hand-computed cases."""

import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.metrics import (  # noqa: E402
    answer_contains_gold,
    answers_found,
    contains_answer,
    dedupe,
    mrr_at_k,
    ndcg_at_k,
    percentile,
    recall_at_k,
    retrieval_scores,
    token_f1,
)


def test_dedupe_keeps_each_documents_best_rank():
    assert dedupe(["a", "b", "a", "c", "b"]) == ["a", "b", "c"]


def test_recall_counts_gold_documents_found_within_k():
    ranked = ["x", "g1", "y", "g2"]
    assert recall_at_k(ranked, {"g1", "g2"}, 1) == 0.0
    assert recall_at_k(ranked, {"g1", "g2"}, 2) == 0.5
    assert recall_at_k(ranked, {"g1", "g2"}, 4) == 1.0
    assert recall_at_k(ranked, set(), 4) == 0.0


def test_mrr_is_the_inverse_rank_of_the_first_gold_within_k():
    assert mrr_at_k(["x", "y", "g"], {"g"}, 10) == pytest.approx(1 / 3)
    assert mrr_at_k(["g", "x"], {"g"}, 10) == 1.0
    assert mrr_at_k(["x", "y", "g"], {"g"}, 2) == 0.0


def test_ndcg_binary_by_hand():
    # gold at ranks 2 and 3 of two gold: DCG = 1/log2(3) + 1/log2(4); IDCG = 1 + 1/log2(3)
    dcg = 1 / math.log2(3) + 1 / 2
    idcg = 1 + 1 / math.log2(3)
    assert ndcg_at_k(["x", "g1", "g2"], {"g1", "g2"}, 10) == pytest.approx(dcg / idcg)
    assert ndcg_at_k(["g1", "g2"], {"g1", "g2"}, 10) == pytest.approx(1.0)
    assert ndcg_at_k(["x", "g1"], {"g1"}, 1) == 0.0
    assert ndcg_at_k(["x", "g1"], {"g1"}, 10) == pytest.approx(1 / math.log2(3))


def test_ndcg_graded():
    # grades g2=2, g1=1; ranked g1, g2: DCG = 1 + 2/log2(3); ideal g2, g1: 2 + 1/log2(3)
    got = ndcg_at_k(["g1", "g2"], {"g1": 1, "g2": 2}, 10)
    assert got == pytest.approx((1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3)))


def test_retrieval_scores_has_the_reported_keys():
    s = retrieval_scores(["g"], {"g"})
    assert s == {"recall@1": 1.0, "recall@5": 1.0, "recall@10": 1.0, "mrr@10": 1.0, "ndcg@10": 1.0}


def test_answer_string_matching():
    assert contains_answer("The Panthers  gave up\njust 308 points", "gave up just 308")
    assert contains_answer("Total sales | $ 1,496.5 |", "$1,496.5")  # digits: spaces ignored
    assert not contains_answer("Kawann Short led", "Mario Addison")
    assert answers_found(["a 2019 b", "c 2018"], ["2019", "2018"], require_all=True)
    assert not answers_found(["a 2019 b"], ["2019", "2017"], require_all=True)
    assert answers_found(["a 2019 b"], ["2019", "2017"])


def test_token_f1_and_contains_gold_use_squad_normalisation():
    assert token_f1("The Denver Broncos", "Denver Broncos") == 1.0
    assert token_f1("Broncos won", "Denver Broncos") == pytest.approx(0.5)
    assert token_f1("", "x") == 0.0
    assert answer_contains_gold("It was the Denver Broncos [1].", ["Denver Broncos"])
    assert not answer_contains_gold("Broncos", ["Denver Broncos"])


def test_percentile_interpolates_like_numpy():
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([10], 95) == 10
