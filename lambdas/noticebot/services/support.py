"""The support check: an answer is shown only as far as its evidence supports it.

A small model writes fluent sentences that no source says. Every sentence of the model's
answer is held against the evidence it cites:

- its figures must all appear in that evidence (exactly, thousands separators aside);
- at least ``min_coverage`` of its content words that the question did not already contain
  (stemmed) must appear there (or in the source's title).

And the answer must rest on the leading evidence (``Evidence.leading``: the cross-encoder
scored it near the best for this question): a true sentence about lockers is no answer to
who to tell about a damaged oar.

A sentence supported by evidence other than the one it cites keeps its place with the citation
corrected; an uncited sentence gets the citation of the evidence that supports it. Sentences
no evidence supports are dropped. A sentence that adds nothing beyond the question's own words
("The answer is:") is not a claim: it is kept only beside supported ones, and never alone.
When nothing supported remains, the reply is the best evidence itself, quoted with its source
("According to <title>: "..." [1]"), so what is shown is always something a source says.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from noticebot.ports import Reranker
from noticebot.services.evidence import Evidence
from noticebot.services.text_overlap import (
    citations,
    content_words,
    figures,
    sentences,
    stems,
    without_citations,
)

# What the check concluded about the answer that is shown (and NOT_FOUND: nothing to check,
# no source was good enough to answer from).
logger = logging.getLogger(__name__)

SUPPORTED = "supported"  # every claim of the model's answer is backed by the evidence it cites
PARTLY_SUPPORTED = "partly_supported"  # unsupported sentences were dropped; the rest is backed
EVIDENCE = "evidence"  # nothing the model wrote was backed: the best evidence, quoted
NOT_FOUND = "not_found"
SUPPORT_VERDICTS = (SUPPORTED, PARTLY_SUPPORTED, EVIDENCE, NOT_FOUND)


@dataclass(frozen=True)
class SupportResult:
    answer: str  # what to show
    verdict: str  # SUPPORTED, PARTLY_SUPPORTED or EVIDENCE
    reason: str | None  # why text was dropped or replaced; None when all of it stood
    cited: tuple[int, ...]  # evidence numbers the shown answer cites, in order


def is_degenerate(answer: str) -> bool:
    """Loops ("X. X. X.") and answers without a single content word."""
    said = [s.strip().lower() for s in sentences(answer) if len(s.strip()) > 8]
    if said and Counter(said).most_common(1)[0][1] >= 3:
        return True
    words = answer.split()
    if len(words) >= 40 and len(set(words)) / len(words) < 0.35:
        return True
    return not content_words(answer) and not figures(answer)


@dataclass(frozen=True)
class _Claim:
    text: str  # the sentence without its markers
    cited: tuple[int, ...]
    words: frozenset[str]  # stemmed content words the question does not contain
    figures: frozenset[str]  # figures the question does not contain


def _claims(question: str, answer: str) -> list[_Claim]:
    asked = set(stems(content_words(question)))
    asked_figures = figures(question)
    out = []
    for sentence in sentences(answer):
        text = without_citations(sentence)
        if not text:
            continue
        out.append(_Claim(text=text, cited=tuple(citations(sentence)),
                          words=frozenset(set(stems(content_words(text))) - asked),
                          figures=frozenset(figures(text) - asked_figures)))
    return out


class SupportCheck:
    """``relevance``: the cross-encoder that scored the evidence. With it, a supported answer
    must also answer the question about as well as its best evidence does (within ``lead``
    logits): a small model often copies the wrong half of the right sentence ("The primary
    companions were Rose Tyler, Martha Jones and Donna Noble" for who played Donna Noble), or
    a bare name the question did not ask for; the evidence itself is the better reply."""

    def __init__(self, min_coverage: float = 0.6, relevance: Reranker | None = None,
                 lead: float = 2.0):
        self.min_coverage = min_coverage
        self.relevance = relevance
        self.lead = lead

    def check(self, question: str, answer: str, evidence: Sequence[Evidence]) -> SupportResult:
        if not evidence:
            raise ValueError("the support check needs evidence; no evidence is a refusal")
        if is_degenerate(answer):
            return self.quote(evidence, "the model's answer was repetitive or empty")
        by_number = {e.number: e for e in evidence}
        # A source's title is part of what it says ("Riverside Rowing Club handbook").
        vocab = {e.number: (set(stems(content_words(f"{e.passage.title} {e.text}"))),
                            figures(f"{e.passage.title} {e.text}")) for e in evidence}
        kept: list[tuple[str, tuple[int, ...]]] = []
        dropped: list[str] = []
        informative_kept = 0
        on_leading = False
        for claim in _claims(question, answer):
            if not claim.words and not claim.figures:
                if not claim.text.endswith(":"):
                    kept.append((claim.text, ()))
                continue
            support = self._supported_by(claim, vocab, by_number)
            if support is None:
                dropped.append(claim.text)
                continue
            kept.append((claim.text, support))
            informative_kept += 1
            on_leading = on_leading or any(by_number[n].leading for n in support)
        if informative_kept and not on_leading:
            return self.quote(evidence, "the model's answer rests only on sources that answer a "
                                        "different question")
        if not informative_kept:
            why = ("no sentence of the model's answer is supported by the sources"
                   + (f" (e.g. \"{_short(dropped[0])}\")" if dropped else ""))
            return self.quote(evidence, why)
        shown = " ".join(_with_markers(text, cited) for text, cited in kept)
        cited = tuple(dict.fromkeys(n for _, c in kept for n in c))
        answers = self._relevance(question, " ".join(text for text, _ in kept), evidence)
        if answers is not None and answers < max(e.score for e in evidence) - self.lead:
            return self.quote(evidence, "the model's answer does not answer the question as "
                                        "directly as its best source does")
        if dropped:
            reason = (f"{len(dropped)} sentence{'s' if len(dropped) > 1 else ''} of the model's "
                      f"answer that no source supports {'were' if len(dropped) > 1 else 'was'} "
                      f"left out (e.g. \"{_short(dropped[0])}\")")
            return SupportResult(shown, PARTLY_SUPPORTED, reason, cited)
        return SupportResult(shown, SUPPORTED, None, cited)

    def _relevance(self, question: str, text: str, evidence: Sequence[Evidence]) -> float | None:
        """The cross-encoder's score of the answer, comparable with the evidence's only when
        it scored the evidence too; None when it did not or cannot (then the lexical check
        alone decides)."""
        if self.relevance is None or not all(e.judged for e in evidence):
            return None
        try:
            return float(self.relevance.score(question, [text])[0])
        except Exception:  # noqa: BLE001 - a failing model must not fail the answer
            logger.warning("answer relevance by %s failed; the lexical check decides alone",
                           getattr(self.relevance, "model_id", type(self.relevance).__name__),
                           exc_info=True)
            return None

    def _supported_by(self, claim: _Claim, vocab, by_number) -> tuple[int, ...] | None:
        """The evidence numbers that support the claim: the cited ones together if they do,
        else the single item that supports it best; None when none does."""
        cited = tuple(n for n in claim.cited if n in by_number)
        if cited:
            words = set().union(*(vocab[n][0] for n in cited))
            figs = set().union(*(vocab[n][1] for n in cited))
            if self._covers(claim, words, figs) is not None:
                return cited
        best, best_coverage = None, -1.0
        for n, (words, figs) in vocab.items():
            coverage = self._covers(claim, words, figs)
            if coverage is not None and coverage > best_coverage:
                best, best_coverage = n, coverage
        return (best,) if best is not None else None

    def _covers(self, claim: _Claim, words: set[str], figs: set[str]) -> float | None:
        """The share of the claim's words found, or None when that is too little or a figure
        is missing."""
        if not claim.figures <= figs:
            return None
        if not claim.words:
            return 1.0
        coverage = len(claim.words & words) / len(claim.words)
        return coverage if coverage >= self.min_coverage else None

    @staticmethod
    def quote(evidence: Sequence[Evidence], reason: str) -> SupportResult:
        """The best-scored evidence, quoted with where it is from."""
        best = max(evidence, key=lambda e: e.score)
        return SupportResult(quoted(best), EVIDENCE, reason, (best.number,))


def quoted(item: Evidence) -> str:
    passage = item.passage
    where = ""
    if passage.page:
        where = f", page {passage.page}"
    elif passage.location:
        where = f", {passage.location}"
    text = "; ".join(line.strip() for line in item.text.splitlines() if line.strip())
    text = text.replace('"', "'")
    return f"According to \"{passage.title}\"{where}: \"{text}\" [{item.number}]"


def _with_markers(text: str, cited: tuple[int, ...]) -> str:
    if not cited:
        return text
    markers = "".join(f"[{n}]" for n in cited)
    match = re.search(r"[.!?]+$", text)
    if match:
        return f"{text[: match.start()]} {markers}{match.group(0)}"
    return f"{text} {markers}"


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"
