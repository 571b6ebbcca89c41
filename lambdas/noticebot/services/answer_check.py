"""Checks a generated answer against its sources, and an extractive fallback.

A small local model often invents figures or loops; a figure that appears in no
source, or a looping answer, is replaced by the source sentence that best
matches the question, quoted with its citation. Users see sources either way.
"""

from __future__ import annotations

import re
from collections import Counter

_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"\w+", re.UNICODE)
_STOP = frozenset(
    "a an the is are was were be been of to in on at by for with from and or but not no do does "
    "did what when where who whom which why how much many can could should would will i you we "
    "they it this that these those there their our your my me us".split()
)


def content_words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 1]


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def unsupported_numbers(answer: str, sources: list[str]) -> set[str]:
    """Figures in the answer that no source contains (citation markers excluded)."""
    answer = re.sub(r"\[\d+\]", " ", answer)
    known = set().union(*(_numbers(s) for s in sources)) if sources else set()
    return {n for n in _numbers(answer) if n not in known}


def is_degenerate(answer: str) -> bool:
    """Loops ("X. X. X.") and near-empty answers."""
    sentences = [s.strip().lower() for s in _SENTENCE.split(answer) if len(s.strip()) > 8]
    if sentences and Counter(sentences).most_common(1)[0][1] >= 3:
        return True
    words = answer.split()
    if len(words) >= 40 and len(set(words)) / len(words) < 0.35:
        return True
    return not content_words(answer)


def best_sentence(question: str, texts: list[str]) -> tuple[int, str] | None:
    """(source index, sentence) sharing the most question words, rarer words weighing more."""
    wanted = set(content_words(question))
    if not wanted:
        return None
    df = Counter(w for t in texts for w in set(content_words(t)))
    best, best_score = None, 0.0
    for i, text in enumerate(texts):
        for sentence in _SENTENCE.split(text):
            words = set(content_words(sentence))
            score = sum(1.0 / df[w] for w in wanted & words) - 0.05 * i  # earlier = better ranked
            if score > best_score:
                best, best_score = (i, sentence.strip()), score
    return best


def check_answer(question: str, answer: str, sources: list[str]) -> tuple[str, str | None]:
    """Returns (answer to show, reason it was replaced or None)."""
    reason = None
    if is_degenerate(answer):
        reason = "the model's answer was repetitive or empty"
    elif bad := unsupported_numbers(answer, sources):
        reason = f"the model's answer had figures not in the sources ({', '.join(sorted(bad))})"
    if reason is None:
        return answer, None
    found = best_sentence(question, sources)
    if not found:
        return answer, None
    index, sentence = found
    return f"According to the sources: \"{sentence}\" [{index + 1}]", reason
