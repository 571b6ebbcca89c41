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


def answer_has_gold(prediction: str, golds: Sequence[str], require_all: bool = False) -> bool:
    """``answer_contains_gold``, or for a multi-span answer every span in the prediction."""
    if not require_all:
        return answer_contains_gold(prediction, golds)
    golds = [g for g in golds if squad_normalise(g)]
    return bool(golds) and all(answer_contains_gold(prediction, [g]) for g in golds)


# ---- faithfulness of a shown answer ----------------------------------------------------
# The benchmark's own definition, independent of the product's support check:
# - sentences: the answer split after . ! ? and at line breaks, citation markers removed;
# - figures: digit runs with their decimal / thousands separators ("1,496.5" -> "1496.5");
# - content words: lower-cased word tokens minus BENCH_STOP and minus the question's own words
#   (restating the question claims nothing), lightly stemmed (plural / -ed / -ing endings);
# - a sentence is a claim when it has a figure or a content word; a claim is supported by a
#   source text when every figure of it is in that text and at least SUPPORT_SHARE of its
#   content words are;
# - an answer is faithful when each claim is supported by one of the sources the answer cites.
SUPPORT_SHARE = 0.75
BENCH_STOP = frozenset(
    "a an the is are was were be been being am of to in on at by for with from and or but not no "
    "nor do does did done what when where who whom whose which why how much many can could should "
    "would will shall may might must i you we they it he she this that these those there here "
    "their our your my me us him her his its them than then so as if into about over under also "
    "only just very more most some any all each both such own same other according source sources "
    "answer text say says said".split())
_CITE_MARK = re.compile(r"\[\s*\d+(?:\s*[,;-]\s*\d+)*\s*\]")
_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)
_SENT_END = re.compile(r"(?<=[.!?])\s+|\n+")


def figures_in(text: str) -> set[str]:
    out = set()
    for f in _FIGURE.findall(_CITE_MARK.sub(" ", text)):
        f = f.rstrip(".,")
        if "," in f and "." in f:
            f = f.replace(",", "")
        elif "," in f and all(len(p) == 3 for p in f.split(",")[1:]):
            f = f.replace(",", "")  # thousands separators
        out.add(f)
    return out


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def stemmed_words(text: str) -> set[str]:
    return {_stem(w) for w in (m.lower().replace("'s", "") for m in _WORD.findall(text))
            if w not in BENCH_STOP and len(w) > 1}


def claim_sentences(answer: str) -> list[str]:
    parts = _SENT_END.split(_CITE_MARK.sub(" ", answer))
    return [re.sub(r"\s+([.!?,;:])", r"\1", " ".join(s.split())) for s in parts if s.strip()]


def sentence_supported(sentence: str, sources: Sequence[str], question: str = "",
                       share: float = SUPPORT_SHARE) -> bool | None:
    """True / False, or None when the sentence is not a claim (nothing beyond the question)."""
    figs = figures_in(sentence)
    words = stemmed_words(sentence) - stemmed_words(question)
    if not figs and not words:
        return None
    for src in sources:
        src_figs, src_words = figures_in(src), stemmed_words(src)
        if figs <= src_figs and (not words or len(words & src_words) / len(words) >= share):
            return True
    return False


def faithfulness(answer: str, sources: Sequence[str], question: str = "") -> dict:
    """{"claims", "supported", "faithful", "unsupported"} for one shown answer."""
    verdicts = [(s, sentence_supported(s, sources, question)) for s in claim_sentences(answer)]
    claims = [(s, v) for s, v in verdicts if v is not None]
    bad = [s for s, v in claims if not v]
    return {"claims": len(claims), "supported": len(claims) - len(bad),
            "faithful": not bad, "unsupported": bad}


def unsupported_figures(answer: str, sources: Sequence[str]) -> list[str]:
    """Figures of the answer that none of the texts contains."""
    known = set().union(*(figures_in(s) for s in sources)) if sources else set()
    return sorted(figures_in(answer) - known)
