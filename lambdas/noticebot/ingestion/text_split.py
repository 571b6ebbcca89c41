"""Token-bounded splitting of one text into consecutive pieces, with optional overlap.

Contract: every piece has at most ``max_tokens`` tokens according to ``count_tokens`` (the
embedder's own tokenizer, which silently truncates longer input), and consecutive pieces
overlap by up to ``overlap_tokens`` so a fact cut by a boundary is still whole in one of them.

Speed: tokenizing is the cost, so each span is counted once at the coarsest level that fits
(whole text, else paragraph, else sentence, else line, else word), those counts are summed
while packing, and each finished piece is counted once more to verify (a sum of parts can be off
by a token or two at joins for subword tokenizers). A span with more words than ``max_tokens`` is
not counted at all: every real tokenizer gives each word at least one token.

Pieces are exact slices of the text, so table rows and numbers are never rewritten.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

CountTokens = Callable[[str], int]

# Coarse to fine separators; a span too big at one level is split with the next.
_LEVELS: tuple[re.Pattern[str], ...] = (
    re.compile(r"\n[^\S\n]*\n\s*"),  # paragraphs: blank lines
    # sentences: after end punctuation (and a closing quote/bracket), or after CJK full stops
    re.compile(r"(?<=[.!?;:…])\s+|(?<=[.!?;:…][\"'”’)\]])\s+|(?<=[。！？；])\s*"),
    re.compile(r"\s*\n\s*"),  # lines (table rows, list items, PDF lines)
    re.compile(r"\s+"),  # words
)
_WORDS = len(_LEVELS) - 1


@dataclass(frozen=True)
class _Piece:
    start: int
    end: int
    tokens: int


def _spans(text: str, start: int, end: int, pattern: re.Pattern[str]) -> Iterable[tuple[int, int]]:
    """Non-blank sub-spans of text[start:end] between matches of ``pattern``, stripped."""
    pos = start
    for match in pattern.finditer(text, start, end):
        yield from _strip(text, pos, match.start())
        pos = match.end()
    yield from _strip(text, pos, end)


def _strip(text: str, start: int, end: int) -> Iterable[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        yield start, end


def _hard_split(text: str, start: int, end: int, count: CountTokens, limit: int) -> list[_Piece]:
    """Split one over-long "word" (a URL, base64...) by characters, longest prefix that fits."""
    pieces = []
    while start < end:
        # Longest text[start:k] within the limit; k is bounded so each search stays cheap.
        lo, hi = start + 1, min(end, start + 64 * limit)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if count(text[start:mid]) <= limit:
                lo = mid
            else:
                hi = mid - 1
        pieces.append(_Piece(start, lo, count(text[start:lo])))
        start = lo
    return pieces


def _pieces(text: str, start: int, end: int, level: int, count: CountTokens, limit: int,
            too_big: bool = False) -> list[_Piece]:
    """Cover text[start:end] with pieces of at most ``limit`` tokens each, coarsest first.

    ``too_big`` says the span was already counted over the limit (a level that found nothing
    to split on), so it is not counted again.
    """
    if not too_big:
        segment = text[start:end]
        if len(segment.split()) <= limit:
            tokens = count(segment)
            if tokens <= limit:
                return [_Piece(start, end, tokens)]
    if level == len(_LEVELS):
        return _hard_split(text, start, end, count, limit)
    spans = list(_spans(text, start, end, _LEVELS[level]))
    if spans == [(start, end)]:
        return _pieces(text, start, end, level + 1, count, limit, too_big=True)
    if level == _WORDS:
        return _word_pieces(text, spans, count, limit)
    out: list[_Piece] = []
    for sub_start, sub_end in spans:
        out.extend(_pieces(text, sub_start, sub_end, level + 1, count, limit))
    return out


def _word_pieces(text: str, words: list[tuple[int, int]], count: CountTokens,
                 limit: int) -> list[_Piece]:
    """Runs of a few words as pieces: counting each word of a 100k-word run-on text would be
    one tokenizer call per word. A run over the limit (very long tokens) falls back to single
    words, and a single word over it to a character split."""
    step = max(1, limit // 8)
    out: list[_Piece] = []
    for i in range(0, len(words), step):
        run = words[i:i + step]
        start, end = run[0][0], run[-1][1]
        tokens = count(text[start:end])
        if tokens <= limit:
            out.append(_Piece(start, end, tokens))
            continue
        for word_start, word_end in run:
            out.extend(_pieces(text, word_start, word_end, _WORDS + 1, count, limit))
    return out


def _carry(text: str, pieces: list[_Piece], first: int, end: int, budget: int,
           count: CountTokens) -> tuple[int, int]:
    """Start offset and token estimate of the overlap taken from the tail of pieces[first:end].

    Whole trailing pieces are preferred; if even the last piece is larger than the budget, its
    trailing words are used instead, so long sentences still get an overlap.
    """
    if budget <= 0:
        return pieces[end].start if end < len(pieces) else len(text), 0
    tokens, k = 0, end
    while k - 1 >= first and tokens + pieces[k - 1].tokens <= budget:
        k -= 1
        tokens += pieces[k].tokens
    if k < end:
        return pieces[k].start, tokens
    last = pieces[end - 1]
    start, tokens = last.end, 0
    words = [m.span() for m in re.finditer(r"\S+", text[last.start:last.end])]
    for word_start, word_end in reversed(words[1:]):  # never the whole piece
        word_tokens = count(text[last.start + word_start:last.start + word_end])
        if tokens + word_tokens > budget:
            break
        start, tokens = last.start + word_start, tokens + word_tokens
    return start, tokens


def _pack(text: str, pieces: list[_Piece], count: CountTokens, max_tokens: int,
          overlap_tokens: int) -> list[str]:
    chunks: list[str] = []
    pos = 0  # next piece not yet in any chunk
    carry_start, carry_tokens = pieces[0].start, 0
    while pos < len(pieces):
        end, total = pos, carry_tokens
        while end < len(pieces) and total + pieces[end].tokens <= max_tokens:
            total += pieces[end].tokens
            end += 1
        if end == pos:
            if carry_tokens:  # the overlap leaves no room for the next piece: drop it
                carry_start, carry_tokens = pieces[pos].start, 0
                continue
            end = pos + 1  # one character over a tiny limit: emit it rather than loop forever
        while count(text[carry_start:pieces[end - 1].end]) > max_tokens:
            if end - pos > 1:
                end -= 1
            elif carry_start < pieces[pos].start:
                carry_start = pieces[pos].start
            else:  # unreachable: a single piece was counted within the limit
                break
        chunks.append(text[carry_start:pieces[end - 1].end].strip())
        first_new = pos
        pos = end
        if pos < len(pieces):
            budget = min(overlap_tokens, max_tokens - pieces[pos].tokens)
            carry_start, carry_tokens = _carry(text, pieces, first_new, pos, budget, count)
    return chunks


def pack_text(text: str, count_tokens: CountTokens, max_tokens: int,
              overlap_tokens: int = 0) -> list[str]:
    """``text`` cut into consecutive pieces of at most ``max_tokens`` each, consecutive ones
    overlapping by up to ``overlap_tokens``; none for a text of only whitespace."""
    span = next(iter(_strip(text, 0, len(text))), None)
    if span is None:
        return []
    pieces = _pieces(text, span[0], span[1], 0, count_tokens, max_tokens)
    return _pack(text, pieces, count_tokens, max_tokens, overlap_tokens)


def split_text(text: str, count_tokens: CountTokens, max_tokens: int) -> list[str]:
    """``text`` cut into consecutive pieces of at most ``max_tokens`` each, without overlap
    (the table chunker uses it for a single cell too long for one chunk)."""
    return pack_text(text, count_tokens, max_tokens)
