"""Chunker invariants: token cap, overlap, page/heading integrity, coverage, cost."""

from __future__ import annotations

import math
import random

import pytest

from noticebot.ingestion import chunk_sections
from noticebot.ingestion.parsed import Section


def words(text: str) -> int:
    return len(text.split())


def _text(seed: int, paragraphs: int = 12) -> str:
    rng = random.Random(seed)
    vocab = ["bin", "hall", "meeting", "Tuesday", "12.50", "rota", "key", "parking", "a", "the",
             "residents", "notice", "café", "2024-05-01", "room", "B|C", "e.g.", "fee"]
    paras = []
    for _ in range(paragraphs):
        sentences = []
        for _ in range(rng.randint(1, 9)):
            n = rng.choice([3, 5, 8, 13, 21, 34, 60])
            sentences.append(" ".join(rng.choice(vocab) for _ in range(n)).capitalize() + ".")
        joiner = "\n" if rng.random() < 0.3 else " "
        paras.append(joiner.join(sentences))
    return "\n\n".join(paras)


def _spans(section_text: str, chunks) -> list[tuple[int, int]]:
    """Where each chunk sits in its section (chunks are exact slices that move forward)."""
    spans, pos, last_end = [], 0, 0
    for chunk in chunks:
        start = section_text.find(chunk.text, pos)
        while start >= 0 and start + len(chunk.text) <= last_end:
            start = section_text.find(chunk.text, start + 1)
        assert start >= 0, "chunk text is not a forward slice of its section"
        spans.append((start, start + len(chunk.text)))
        pos, last_end = start + 1, start + len(chunk.text)
    return spans


def _by_section(sections, chunks):
    """Group chunks back to their sections (chunks are emitted section by section)."""
    groups, i = [], 0
    for section in sections:
        group = []
        key = (section.page, section.heading)
        while i < len(chunks) and (chunks[i].page, chunks[i].heading) == key \
                and chunks[i].text in section.text:
            group.append(chunks[i])
            i += 1
        groups.append(group)
    assert i == len(chunks)
    return groups


@pytest.mark.parametrize(("max_tokens", "overlap"), [(200, 40), (50, 10), (20, 0), (8, 3)])
@pytest.mark.parametrize("seed", range(5))
def test_invariants(seed: int, max_tokens: int, overlap: int) -> None:
    sections = [
        Section(text=_text(seed), page=1, heading="Intro"),
        Section(text=_text(seed + 100), page=2, heading="Intro"),
        Section(text="", page=3),
        Section(text=_text(seed + 200, 3), page=None, heading="Appendix"),
    ]
    chunks = chunk_sections(sections, words, max_tokens=max_tokens, overlap_tokens=overlap)
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    assert all(1 <= words(c.text) <= max_tokens for c in chunks)
    assert all(c.text == c.text.strip() for c in chunks)

    for section, group in zip(sections, _by_section(sections, chunks)):
        assert all(c.page == section.page and c.heading == section.heading for c in group)
        if not section.text.strip():
            assert group == []
            continue
        spans = _spans(section.text, group)
        # all text covered: every non-space character lies in some chunk
        covered = bytearray(len(section.text))
        for start, end in spans:
            covered[start:end] = b"\x01" * (end - start)
        assert all(covered[i] or ch.isspace() for i, ch in enumerate(section.text))
        # consecutive chunks overlap by at most `overlap` tokens, and always move forward
        for (s1, e1), (s2, e2) in zip(spans, spans[1:]):
            assert s2 > s1 and e2 > e1
            shared = section.text[s2:e1] if s2 < e1 else ""
            assert words(shared) <= overlap
            if overlap == 0:
                assert s2 >= e1


def test_consecutive_chunks_overlap() -> None:
    text = " ".join(f"Sentence number {i} says something short." for i in range(60))
    chunks = chunk_sections([Section(text=text, page=4)], words, max_tokens=40, overlap_tokens=10)
    assert len(chunks) > 3
    for a, b in zip(chunks, chunks[1:]):
        last_sentence = "Sentence" + a.text.rsplit("Sentence", 1)[-1]
        assert b.text.startswith(last_sentence)  # the previous chunk's last sentence opens this
        assert b.page == 4


def test_overlap_uses_words_when_a_sentence_is_longer_than_the_budget() -> None:
    text = " ".join(f"w{i}" for i in range(1000))  # one long sentence, no punctuation
    chunks = chunk_sections([Section(text=text)], words, max_tokens=200, overlap_tokens=10)
    assert len(chunks) >= 5
    for a, b in zip(chunks, chunks[1:]):
        assert a.text.split()[-10:] == b.text.split()[:10]
        assert a.text.split()[-11] != b.text.split()[0]
    assert all(words(c.text) <= 200 for c in chunks)


def test_pages_are_never_mixed_and_heading_is_metadata_only() -> None:
    sections = [Section(text=f"Page {p} text. " * 30, page=p, heading="Minutes") for p in (1, 2, 3)]
    chunks = chunk_sections(sections, words, max_tokens=25, overlap_tokens=5)
    for chunk in chunks:
        assert set(chunk.text.replace(".", "").split()) <= {"Page", str(chunk.page), "text"}
        assert chunk.heading == "Minutes" and not chunk.text.startswith("Minutes")


def test_small_section_is_one_chunk_identical_to_its_text() -> None:
    chunks = chunk_sections([Section(text="  Bins out Tuesday.\n\nHall shut.  ", page=2)], words)
    assert [(c.ordinal, c.text, c.page) for c in chunks] == [
        (0, "Bins out Tuesday.\n\nHall shut.", 2)
    ]


def test_table_rows_stay_whole() -> None:
    rows = "\n".join(f"Row {i} | {i * 3}.50 | note" for i in range(40))
    chunks = chunk_sections([Section(text=rows)], words, max_tokens=30, overlap_tokens=6)
    for chunk in chunks:
        for line in chunk.text.split("\n"):
            assert line.startswith("Row ") and line.endswith("| note")


def test_over_long_word_is_split_by_characters() -> None:
    def chars(text: str) -> int:
        return math.ceil(len(text) / 4)

    blob = "x" * 5000
    chunks = chunk_sections([Section(text=f"start {blob} end")], chars, max_tokens=100,
                            overlap_tokens=10)
    assert all(chars(c.text) <= 100 for c in chunks)
    assert "".join(c.text for c in chunks).count("x") >= 5000


def test_non_additive_counter_is_still_respected() -> None:
    """Subword tokenizers do not add up exactly at joins; the cap must hold anyway."""
    def lumpy(text: str) -> int:
        return len(text.split()) + text.count(" ") // 3 + 1

    sections = [Section(text=_text(seed), page=seed) for seed in range(3)]
    chunks = chunk_sections(sections, lumpy, max_tokens=60, overlap_tokens=12)
    assert chunks and all(lumpy(c.text) <= 60 for c in chunks)


def test_cjk_without_spaces() -> None:
    text = "会议在星期二举行。请带上钥匙。" * 200

    def per_char(s: str) -> int:
        return sum(1 for ch in s if not ch.isspace())

    chunks = chunk_sections([Section(text=text, page=1)], per_char, max_tokens=64,
                            overlap_tokens=8)
    assert all(per_char(c.text) <= 64 for c in chunks)
    assert sum(per_char(c.text) for c in chunks) >= per_char(text)


def test_counting_cost_is_linear() -> None:
    """Each character is tokenized a small constant number of times, not once per chunk."""
    text = _text(7, paragraphs=400)
    counted = 0

    def counting(s: str) -> int:
        nonlocal counted
        counted += len(s)
        return words(s)

    chunks = chunk_sections([Section(text=text)], counting, max_tokens=200, overlap_tokens=40)
    assert len(chunks) > 50
    assert counted < 6 * len(text)


def test_run_on_text_is_not_counted_word_by_word() -> None:
    calls = 0

    def counting(s: str) -> int:
        nonlocal calls
        calls += 1
        return words(s)

    text = " ".join(["notice", "hall", "12.50", "rota"][i % 4] for i in range(20000))
    chunks = chunk_sections([Section(text=text)], counting, max_tokens=200, overlap_tokens=40)
    assert all(words(c.text) <= 200 for c in chunks)
    assert calls < 20000 / 10


def test_deterministic() -> None:
    sections = [Section(text=_text(3), page=1, heading="H")]
    assert chunk_sections(sections, words, 30, 6) == chunk_sections(sections, words, 30, 6)


@pytest.mark.parametrize(("max_tokens", "overlap"), [(0, 0), (10, 10), (10, -1)])
def test_bad_parameters(max_tokens: int, overlap: int) -> None:
    with pytest.raises(ValueError):
        chunk_sections([Section(text="x")], words, max_tokens, overlap)
