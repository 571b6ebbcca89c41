"""Retrieval and answer metrics (pure functions, no I/O), binary or graded relevance.

Conventions (the usual BEIR / trec_eval ones):
- ``ranked``: document ids best first, already deduplicated (a document counts once, at the
  rank of its best chunk: see ``dedupe``).
- ``gold``: {document id: relevance grade > 0}; a set or list means grade 1 for each.
- recall@k = gold documents in the top k / all gold documents (not "hit@k": with two gold
  passages, finding one in the top k scores 0.5).
- MRR@k = 1 / rank of the first gold document within the top k, else 0.
- nDCG@k with linear gains: DCG = sum(grade_i / log2(i + 1)), i = 1-based rank; divided by the
  DCG of the ideal ordering of the gold grades.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence


def _grades(gold) -> dict:
    if isinstance(gold, Mapping):
        return {d: float(g) for d, g in gold.items() if g > 0}
    return {d: 1.0 for d in gold}


def dedupe(doc_ids: Iterable[str]) -> list[str]:
    """Document ids in first-seen order: a document's best (first) chunk keeps its rank."""
    seen: set[str] = set()
    out = []
    for d in doc_ids:
        if d not in seen:
            seen.add(d)
            out.append(d)
    return out


def recall_at_k(ranked: Sequence[str], gold, k: int) -> float:
    grades = _grades(gold)
    if not grades:
        return 0.0
    return sum(1 for d in ranked[:k] if d in grades) / len(grades)


def mrr_at_k(ranked: Sequence[str], gold, k: int) -> float:
    grades = _grades(gold)
    for i, d in enumerate(ranked[:k], start=1):
        if d in grades:
            return 1.0 / i
    return 0.0


def ndcg_at_k(ranked: Sequence[str], gold, k: int) -> float:
    grades = _grades(gold)
    if not grades:
        return 0.0
    dcg = sum(grades.get(d, 0.0) / math.log2(i + 1) for i, d in enumerate(ranked[:k], start=1))
    ideal = sorted(grades.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 1) for i, g in enumerate(ideal, start=1))
    return dcg / idcg if idcg > 0 else 0.0


def retrieval_scores(ranked: Sequence[str], gold) -> dict[str, float]:
    """The benchmark's per-query metric set."""
    return {
        "recall@1": recall_at_k(ranked, gold, 1),
        "recall@5": recall_at_k(ranked, gold, 5),
        "recall@10": recall_at_k(ranked, gold, 10),
        "mrr@10": mrr_at_k(ranked, gold, 10),
        "ndcg@10": ndcg_at_k(ranked, gold, 10),
    }


def mean_scores(rows: Sequence[Mapping[str, float]]) -> dict[str, float]:
    if not rows:
        return {}
    return {key: round(sum(r[key] for r in rows) / len(rows), 4) for key in rows[0]}


# ---- answer strings ------------------------------------------------------------------
def normalise_ws(text: str) -> str:
    """Case-folded, whitespace runs collapsed to one space."""
    return " ".join(text.casefold().split())


def contains_answer(text: str, answer: str) -> bool:
    """Case-insensitive substring match on whitespace-normalised text. An answer with a digit
    also matches with all spaces removed ("$1,496.5" in a table cell written "$ 1,496.5")."""
    a, t = normalise_ws(answer), normalise_ws(text)
    if not a:
        return False
    if a in t:
        return True
    if any(ch.isdigit() for ch in a):
        return a.replace(" ", "") in t.replace(" ", "")
    return False


def answers_found(texts: Sequence[str], answers: Sequence[str], require_all: bool = False) -> bool:
    """Whether the texts (together) contain any gold answer, or all of them if ``require_all``
    (multi-span answers: the answer is the whole set of spans)."""
    answers = [a for a in answers if a.strip()]
    if not answers:
        return False
    hit = [any(contains_answer(t, a) for t in texts) for a in answers]
    return all(hit) if require_all else any(hit)


_PUNCT = set(string.punctuation) | {"‘", "’", "“", "”", "–", "—"}
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def squad_normalise(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def token_f1(prediction: str, gold: str) -> float:
    pred, ref = squad_normalise(prediction).split(), squad_normalise(gold).split()
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def best_f1(prediction: str, golds: Sequence[str]) -> float:
    return max((token_f1(prediction, g) for g in golds), default=0.0)


def answer_contains_gold(prediction: str, golds: Sequence[str]) -> bool:
    """The generated answer contains a gold answer, both SQuAD-normalised."""
    p = f" {squad_normalise(prediction)} "
    return any(g_n and f" {g_n} " in p for g_n in (squad_normalise(g) for g in golds))


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default), without numpy."""
    if not values:
        return float("nan")
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)
