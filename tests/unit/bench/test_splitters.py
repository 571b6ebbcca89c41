"""bench/splitters.py's pure parts, with a whitespace token counter (no models, no data)."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

pytest.importorskip("langchain_text_splitters")  # requirements-bench.txt, not the test install

from bench.splitters import (  # noqa: E402
    SENTENCE_SEPARATORS,
    articles,
    bootstrap_diff,
    is_hit,
    langchain,
    markdown,
    mean_rows,
    ours,
    rank_scores,
    shape,
    starts_mid_sentence,
)


def words(text: str) -> int:
    return len(text.split())


def test_articles_group_by_title_in_numeric_id_order():
    corpus = [
        {"_id": "Warsaw_10", "title": "Warsaw", "text": "ten"},
        {"_id": "Force_0", "title": "Force", "text": "f0"},
        {"_id": "Warsaw_2", "title": "Warsaw", "text": "two"},
        {"_id": "Warsaw_0", "title": "Warsaw", "text": "zero"},
    ]
    assert articles(corpus) == [("Warsaw", "zero\n\ntwo\n\nten"), ("Force", "f0")]


def test_a_hit_needs_the_gold_article_and_an_answer_inside_the_chunk():
    text = "The Panthers defense gave up just 308 points."
    assert is_hit("Super Bowl 50", text, "Super Bowl 50", ["308"])
    assert is_hit("Super Bowl 50", text, "Super Bowl 50", ["nope", "PANTHERS defense"])
    assert not is_hit("Warsaw", text, "Super Bowl 50", ["308"])  # right words, wrong article
    assert not is_hit("Super Bowl 50", text, "Super Bowl 50", ["136"])
    assert not is_hit("Super Bowl 50", text, "Super Bowl 50", [])


def test_recall_and_mrr_from_the_first_hit():
    assert rank_scores([False, False, True, True]) == {
        "recall@1": 0.0, "recall@5": 1.0, "recall@10": 1.0, "mrr@10": pytest.approx(1 / 3)}
    assert rank_scores([True]) == {"recall@1": 1.0, "recall@5": 1.0, "recall@10": 1.0,
                                   "mrr@10": 1.0}
    late = rank_scores([False] * 6 + [True])
    assert (late["recall@5"], late["recall@10"], late["mrr@10"]) == (0.0, 1.0, pytest.approx(1 / 7))
    assert rank_scores([False] * 10 + [True]) == {"recall@1": 0.0, "recall@5": 0.0,
                                                  "recall@10": 0.0, "mrr@10": 0.0}
    assert mean_rows([rank_scores([True]), rank_scores([False, True])]) == {
        "recall@1": 0.5, "recall@5": 1.0, "recall@10": 1.0, "mrr@10": 0.75}


def test_bootstrap_ci_brackets_the_paired_mean_and_is_seeded():
    a, b = [1, 1, 0, 1, 1, 0, 1, 1], [1, 0, 0, 1, 0, 0, 1, 1]
    d = bootstrap_diff(a, b, resamples=500, seed=3)
    assert d["mean"] == pytest.approx(0.25)
    assert d["lo"] <= d["mean"] <= d["hi"]
    assert d == bootstrap_diff(a, b, resamples=500, seed=3)
    assert bootstrap_diff([1, 1], [1, 1]) == {"mean": 0.0, "lo": 0.0, "hi": 0.0}


TEXT = "\n\n".join(
    " ".join(f"Sentence {p}.{s} has some plain words in it." for s in range(6)) for p in range(5))


@pytest.mark.parametrize("split", [
    langchain(max_tokens=20, overlap_tokens=4),
    langchain(SENTENCE_SEPARATORS, keep_separator="end", max_tokens=20, overlap_tokens=4),
])
def test_langchain_adapter_keeps_chunks_under_the_cap_and_covers_the_text(split):
    chunks = split(TEXT, words)
    assert len(chunks) > 5
    assert all(0 < words(c) <= 20 for c in chunks)
    assert all(c in TEXT for c in chunks)  # slices of the article
    assert " ".join(chunks).split()[-1] == TEXT.split()[-1]


def test_ours_at_ingest_settings_and_shape_statistics():
    chunks = [("A", c) for c in ours(TEXT, words)]
    assert all(words(c) <= 200 for _, c in chunks)
    stats = shape(chunks, {"A": TEXT}, words, lambda title, text: f"{title}\n{text}")
    assert stats["chunks"] == len(chunks)
    assert stats["over_200"] == stats["over_256"] == stats["embed_truncated"] == 0.0
    assert stats["exact_slices"] == 1.0


def test_mid_sentence_start():
    text = "One two. Three four; five"
    assert not starts_mid_sentence(text, 0)
    assert not starts_mid_sentence(text, text.index("Three"))
    assert starts_mid_sentence(text, text.index("four"))


def _stats(overlap: float, total: int, r5: float) -> dict:
    return {"chunks": 3, "mean_tokens": 150.0, "max_tokens": 200, "total_tokens": total,
            "over_200": 0.0, "over_256": 0.0, "embed_truncated": 0.0, "exact_slices": 1.0,
            "mid_sentence_starts": 0.1, "mean_overlap_tokens": overlap, "no_overlap": 0.5,
            "chunk_s": 0.1, "tokenizer_calls": 9, "embed_s": 1.0, "answerable": 1.0,
            "recall@1": 0.9, "recall@5": r5, "recall@10": 1.0, "mrr@10": 0.95}


def test_markdown_table_and_finding():
    tie = {"mean": 0.0, "lo": -0.01, "hi": 0.01}
    result = {
        "config": {"articles": 2, "questions": 4, "seed": 1, "max_tokens": 200,
                   "overlap_tokens": 40, "top_k": 10, "embedder": "fake"},
        "splitters": {"ours": _stats(30.0, 900, 0.9), "langchain": _stats(5.0, 800, 0.9)},
        "recall@5_diff": {"ours - langchain": tie}, "mrr@10_diff": {"ours - langchain": tie},
    }
    lines = markdown(result)
    assert sum(line.startswith("| ours |") or line.startswith("| langchain |")
               for line in lines) == 2
    finding = lines[-1]
    assert "tie" in finding and "ours wins on overlap" in finding
    assert "langchain on tokens to embed" in finding
    result["recall@5_diff"]["ours - langchain"] = {"mean": -0.1, "lo": -0.2, "hi": -0.05}
    assert "langchain retrieves better than ours" in markdown(result)[-1]
