"""Evidence: the few sentences, table rows or transcript lines of the retrieved passages that
bear on the question, numbered, each still pointing at its document and place.

Why not whole passages: a small model given four 200-token passages answers from whichever
sentence it latches on to, often the wrong one, and a long prompt is slow to prefill. Given
three or four sentences that a cross-encoder judged relevant, it copies the right one; the
prompt is a few hundred tokens; and the support check (``services.support``) has a precise
text to hold each sentence of the answer against.

How units are chosen: every passage is cut into units (sentences of prose; for a table, its
heading lines with one row each; for a transcript, its timed lines). A cheap lexical score
(question words in the unit, rarer words weighing more) keeps the most promising units; the
cross-encoder, when there is one, scores those against the question; the best ones within a
token budget become the evidence, best first.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from noticebot.ports import Reranker
from noticebot.services.search import Passage
from noticebot.services.text_overlap import content_words, sentences, stems

# A unit that starts like this leans on the sentence before it, which then comes with it.
logger = logging.getLogger(__name__)

_LEANS_BACK = re.compile(r"^(?:it|its|they|their|this|these|that|those|he|she|his|her|there|"
                         r"such|both|however|but|also|then)\b", re.IGNORECASE)
_TABLE_LINE = re.compile(r"\|| \w[\w ]*: [^;]+; ")


@dataclass(frozen=True)
class Unit:
    passage: int  # index into the passages
    ordinal: int  # position within the passage
    text: str  # what the model and the support check read
    context: str = ""  # a heading or the sentence before, shown with it but not scored


@dataclass(frozen=True)
class Evidence:
    number: int  # [n] in the prompt and the answer
    passage: Passage
    text: str
    score: float  # the cross-encoder's (or the lexical) relevance to the question
    # Close enough to the best-scored evidence to answer from on its own: an answer that rests
    # only on lesser evidence answers a neighbouring question (a damaged oar answered with
    # who rents lockers).
    leading: bool = True
    judged: bool = False  # scored by the cross-encoder (False: the lexical fallback's score)


def _is_tabular(lines: list[str]) -> bool:
    return len(lines) >= 3 and sum(bool(_TABLE_LINE.search(x)) for x in lines) >= len(lines) / 2


def units_of(passage_index: int, text: str, header_lines: int = 2) -> list[Unit]:
    """A table's rows each come with its first lines (the table's name and columns, or the
    years above the figures), so a row is never read without what its numbers mean."""
    lines = [x.strip() for x in text.splitlines() if x.strip()]
    if _is_tabular(lines):
        head = lines[:header_lines]
        header = "\n".join(head)
        rows = lines[header_lines:] or head
        return [Unit(passage_index, i, row, context=header if row not in head else "")
                for i, row in enumerate(rows)]
    prose = sentences(text)
    return [Unit(passage_index, i, s, context=prose[i - 1] if i and _LEANS_BACK.match(s)
                 else "") for i, s in enumerate(prose)]


def _approx_tokens(text: str) -> int:
    return max(1, round(len(text.split()) * 1.35))


class EvidenceSelector:
    """``reranker``: the cross-encoder that scores units against the question (None: the
    lexical score alone, as in tests with fakes). ``budget_tokens``: the evidence's size in
    the prompt; ``max_items``: at most this many units; ``candidates``: how many units, best
    by the lexical score, the cross-encoder reads (its cost is per unit); ``margin``: units
    scoring further than this below the best (in cross-encoder logits) are left out; ``lead``:
    units within this of the best are ``leading`` (without a cross-encoder, every unit is)."""

    def __init__(self, reranker: Reranker | None = None, *, budget_tokens: int = 320,
                 max_items: int = 5, candidates: int = 8, margin: float = 6.0,
                 lead: float = 2.0):
        self.reranker = reranker
        self.budget_tokens = budget_tokens
        self.max_items = max_items
        self.candidates = candidates
        self.margin = margin
        self.lead = lead

    def select(self, question: str, passages: Sequence[Passage]) -> list[Evidence]:
        units = [u for i, p in enumerate(passages) for u in units_of(i, p.text)]
        if not units:
            return []
        lexical = _lexical_scores(question, units, len(passages))
        ranked = sorted(range(len(units)), key=lambda i: -lexical[i])
        shortlist = ranked[: self.candidates]
        if units[0].passage == 0 and not any(units[i].passage == 0 for i in shortlist):
            shortlist[-1] = next(i for i in ranked if units[i].passage == 0)
        scores, judged = self._scores(question, [units[i] for i in shortlist],
                                      [lexical[i] for i in shortlist])
        order = sorted(range(len(shortlist)), key=lambda k: -scores[k])
        best = scores[order[0]]
        chosen: list[tuple[int, float]] = []
        used = 0
        for k in order:
            if len(chosen) >= self.max_items:
                break
            if judged and scores[k] < best - self.margin:
                break
            unit = units[shortlist[k]]
            cost = _approx_tokens(unit.context + " " + unit.text)
            if chosen and used + cost > self.budget_tokens:
                continue
            chosen.append((shortlist[k], scores[k]))
            used += cost
        # Best first: a small model leans on [1].
        leading = best - self.lead if judged else float("-inf")
        return [Evidence(number=n, passage=passages[units[i].passage], text=_shown(units[i]),
                         score=round(score, 4), leading=score >= leading, judged=judged)
                for n, (i, score) in enumerate(chosen, start=1)]

    def _scores(self, question: str, units: list[Unit],
                lexical: list[float]) -> tuple[list[float], bool]:
        """(scores, whether the cross-encoder gave them). A cross-encoder that fails costs the
        choice's precision, not the answer: the lexical scores stand in."""
        if self.reranker is None:
            return lexical, False
        try:
            scores = self.reranker.score(question, [_shown(u) for u in units])
            if len(scores) != len(units):
                raise ValueError(f"{len(scores)} scores for {len(units)} units")
            return [float(x) for x in scores], True
        except Exception:  # noqa: BLE001 - any model failure degrades to the lexical choice
            logger.warning("evidence scoring by %s failed; choosing by question words",
                           getattr(self.reranker, "model_id", type(self.reranker).__name__),
                           exc_info=True)
            return lexical, False


def _shown(unit: Unit) -> str:
    return f"{unit.context}\n{unit.text}" if unit.context else unit.text


def _lexical_scores(question: str, units: list[Unit], n_passages: int) -> list[float]:
    """Question words in the unit, each weighted by its rarity among the units (idf), with a
    small preference for units of better-ranked passages."""
    wanted = set(stems(content_words(question)))
    unit_words = [set(stems(content_words(u.text + " " + u.context))) for u in units]
    df = Counter(w for words in unit_words for w in words)
    n = len(units)
    scores = []
    for unit, words in zip(units, unit_words):
        score = sum(math.log(1 + n / df[w]) for w in wanted & words)
        scores.append(score - 0.1 * unit.passage / max(1, n_passages))
    return scores
