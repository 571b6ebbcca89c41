"""Plain-text comparisons the chat relies on: content words, their stems, figures, sentences.

Deliberately simple and deterministic (no model): the evidence selector's first cut and the
support check must behave the same for every model and be cheap enough to run per sentence.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+", re.UNICODE)
_FIGURE = re.compile(r"\d+(?:[.,:]\d+)*")
_CITATION = re.compile(r"\[(\d+)\]")
# A sentence ends at . ! ? (and any closing quote or bracket) before a space and a capital, a
# digit or an opening quote; a citation marker after the stop stays with its sentence.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[A-Z0-9\"'(])")
_ABBREVIATION = re.compile(r"\b(?:e\.g|i\.e|etc|vs|Dr|Mr|Mrs|Ms|St|No|Fig|approx|incl)\.$")
STOP_WORDS = frozenset(
    "a an the is are was were be been being am of to in on at by for with from and or but not no "
    "nor do does did done doing what when where who whom whose which why how much many can could "
    "should would will shall may might must i you we they it its this that these those there "
    "their our your my me us him her his she he them as if then than so too very also just into "
    "about over under up down out off again any all each every some such only own same other "
    "yes ok okay please answer according source sources said says say tell told".split()
)
_SUFFIXES = ("ingly", "edly", "ies", "ing", "ed", "es", "ly", "s")


def content_words(text: str) -> list[str]:
    """Lower-cased words that carry meaning: no stop words, no single letters, no bare
    figures (figures are compared on their own, exactly)."""
    return [w for w in _WORD.findall(text.lower())
            if w not in STOP_WORDS and len(w) > 1 and not w.isdigit()]


def stem(word: str) -> str:
    """A light suffix strip, so "reported" meets "report" and "boats" meets "boat"."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            if suffix == "ies":
                word += "y"
            break
    return word


def stems(words) -> list[str]:
    return [stem(w) for w in words]


def figures(text: str) -> set[str]:
    """The numbers in a text, thousands separators dropped ("1,496.5" -> "1496.5"); citation
    markers are not figures."""
    text = _CITATION.sub(" ", text)
    out = set()
    for raw in _FIGURE.findall(text):
        value = raw.rstrip(".,:")
        if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", value):
            value = value.replace(",", "")
        out.add(value)
    return out


def citations(text: str) -> list[int]:
    """The [n] markers in a text, in order, each once."""
    seen: list[int] = []
    for m in _CITATION.finditer(text):
        n = int(m.group(1))
        if n not in seen:
            seen.append(n)
    return seen


def without_citations(text: str) -> str:
    return re.sub(r"\s*\[\d+\]", "", text).strip()


def sentences(text: str) -> list[str]:
    """Sentences of prose, a line break always ending one; "e.g." and the like do not."""
    out: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        merged: list[str] = []
        for piece in _SENTENCE_END.split(line):
            if merged and _ABBREVIATION.search(merged[-1]):
                merged[-1] = f"{merged[-1]} {piece}"
            else:
                merged.append(piece)
        out.extend(p.strip() for p in merged if p.strip())
    return out
