"""Our token-aware chunker vs langchain-text-splitters, on whole XQuAD articles.

    .venv/bin/python -m bench.splitters

The 48 XQuAD source articles are rebuilt from their paragraphs (grouped by title, in ``_id``
order, joined by a blank line), so each is a long document like a real upload. Each splitter
chunks every article with the ingest settings (200 tokens, 40 overlap, the embedder's own
tokenizer as the length function):

- ``ours``: ``noticebot.ingestion.chunking.chunk_sections`` (what ingest runs);
- ``langchain``: ``RecursiveCharacterTextSplitter(chunk_size=200, chunk_overlap=40,
  length_function=count_tokens)`` with its default separators ("\\n\\n", "\\n", " ", "");
- ``langchain sentences``: the same with ["\\n\\n", "\\n", ". ", " ", ""], the ". " kept at
  the end of the sentence (``keep_separator="end"``; the default "start" would begin every
  chunk with ". ").

Per splitter: chunk count and sizes, the share over 200 tokens and over 256 (the embedder's
truncation: text past it is invisible to the dense side), chunking time with the real
tokenizer, and retrieval quality. The chunks are embedded as ingest does (``embed_chunks``:
title prefix, real bge-small ONNX) into a fresh ``EmbeddedHybridIndex`` each, and a seeded
sample of questions (with a short extractive answer) is searched in hybrid mode, top 10. A
retrieved chunk is a hit when it comes from the question's gold article and contains one of
its gold answers (``bench.metrics.contains_answer``: case-insensitive). Reported: hit rate at
1 / 5 / 10 ("answer recall@k"), MRR@10, and a paired bootstrap 95% CI of the recall@5
difference (ours minus each langchain variant) over questions.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from bench.data import load_dataset, sample_queries
from bench.metrics import contains_answer

from noticebot.domain.models import Chunk
from noticebot.ingestion.chunking import chunk_sections
from noticebot.ingestion.parsed import Section

MAX_TOKENS = 200
OVERLAP_TOKENS = 40
EMBED_LIMIT = 256  # OnnxEmbedder.max_tokens, special tokens included
TOP_K = 10
WORKSPACE = "bench-splitters"
SENTENCE_SEPARATORS = ["\n\n", "\n", ". ", " ", ""]
CountTokens = Callable[[str], int]
Splitter = Callable[[str, CountTokens], list[str]]
Log = Callable[[str], None]


# ------------------------------------------------------------------ pure parts (unit-tested)
def articles(corpus: Sequence[dict]) -> list[tuple[str, str]]:
    """(title, text) per source article: its paragraphs in ``_id`` order ("Title_0",
    "Title_1", ... compared by number), joined by a blank line; articles in order of first
    appearance."""
    groups: dict[str, list[dict]] = {}
    for row in corpus:
        groups.setdefault(row["title"], []).append(row)

    def order(row: dict) -> tuple[str, int]:
        head, _, tail = row["_id"].rpartition("_")
        return (head, int(tail)) if tail.isdigit() else (row["_id"], -1)

    return [(title, "\n\n".join(r["text"] for r in sorted(rows, key=order)))
            for title, rows in groups.items()]


def ours(text: str, count_tokens: CountTokens) -> list[str]:
    drafts = chunk_sections([Section(text=text)], count_tokens, max_tokens=MAX_TOKENS,
                            overlap_tokens=OVERLAP_TOKENS)
    return [d.text for d in drafts]


def langchain(separators: Sequence[str] | None = None, keep_separator: bool | str = True,
              max_tokens: int = MAX_TOKENS, overlap_tokens: int = OVERLAP_TOKENS) -> Splitter:
    """A splitter function backed by ``RecursiveCharacterTextSplitter`` measuring in tokens."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    def split(text: str, count_tokens: CountTokens) -> list[str]:
        kwargs = {"separators": list(separators)} if separators is not None else {}
        splitter = RecursiveCharacterTextSplitter(
            chunk_size=max_tokens, chunk_overlap=overlap_tokens, length_function=count_tokens,
            keep_separator=keep_separator, **kwargs)
        return splitter.split_text(text)

    return split


def is_hit(chunk_article: str, chunk_text: str, gold_article: str, answers: Sequence[str]) -> bool:
    """The chunk answers the question: right article and one gold answer inside it."""
    return chunk_article == gold_article and any(contains_answer(chunk_text, a) for a in answers)


def rank_scores(hits: Sequence[bool], k: int = TOP_K) -> dict[str, float]:
    """Answer recall@1/5/10 (a hit within the top k) and MRR@10 from per-rank hit flags."""
    rank = next((i for i, h in enumerate(hits[:k], start=1) if h), None)
    out = {f"recall@{n}": float(rank is not None and rank <= n) for n in (1, 5, 10)}
    out["mrr@10"] = 1.0 / rank if rank is not None else 0.0
    return out


def mean_rows(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    return {key: round(sum(r[key] for r in rows) / len(rows), 4) for key in rows[0]} if rows else {}


def bootstrap_diff(a: Sequence[float], b: Sequence[float], resamples: int = 1000,
                   seed: int = 13) -> dict[str, float]:
    """Mean of a - b with a paired percentile-bootstrap 95% CI (questions resampled)."""
    diff = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), size=(resamples, len(diff)))].mean(axis=1)
    return {"mean": round(float(diff.mean()), 4), "lo": round(float(np.percentile(means, 2.5)), 4),
            "hi": round(float(np.percentile(means, 97.5)), 4)}


_SENTENCE_END = re.compile(r"[.!?;:…][\"'”’)\]]?$")


def starts_mid_sentence(article: str, start: int) -> bool:
    """Whether a chunk beginning at ``article[start]`` opens inside a sentence."""
    before = article[:start].rstrip()
    return bool(before) and not _SENTENCE_END.search(before)


def shape(chunks: list[tuple[str, str]], texts: dict[str, str], count_tokens: CountTokens,
          embed_text: Callable[[str, str], str]) -> dict:
    """Size and boundary statistics of (article title, chunk text) pairs."""
    tokens = [count_tokens(t) for _, t in chunks]
    seen = [count_tokens(embed_text(title, t)) + 2 for title, t in chunks]  # + [CLS] [SEP]
    mid = slices = 0
    cursor: dict[str, int] = {}
    prev_end: dict[str, int] = {}
    overlaps: list[int] = []  # tokens shared with the previous chunk, per chunk boundary
    for title, t in chunks:
        article = texts[title]
        at = article.find(t, cursor.get(title, 0))
        if at < 0:
            at = article.find(t)
        if at < 0:
            continue
        slices += 1
        cursor[title] = at + 1
        mid += starts_mid_sentence(article, at)
        if title in prev_end:
            shared = article[at:prev_end[title]]
            overlaps.append(count_tokens(shared) if shared.strip() else 0)
        prev_end[title] = at + len(t)
    n = len(chunks) or 1
    b = len(overlaps) or 1
    return {"chunks": len(chunks), "mean_tokens": round(sum(tokens) / n, 1),
            "max_tokens": max(tokens, default=0), "total_tokens": sum(tokens),
            "over_200": round(sum(x > MAX_TOKENS for x in tokens) / n, 4),
            "over_256": round(sum(x > EMBED_LIMIT for x in tokens) / n, 4),
            "embed_truncated": round(sum(x > EMBED_LIMIT for x in seen) / n, 4),
            "exact_slices": round(slices / n, 4), "mid_sentence_starts": round(mid / n, 4),
            "mean_overlap_tokens": round(sum(overlaps) / b, 1),
            "no_overlap": round(sum(x == 0 for x in overlaps) / b, 4)}


# ------------------------------------------------------------------ the measured run
SPLITTERS: dict[str, Callable[[], Splitter]] = {
    "ours": lambda: ours,
    "langchain": lambda: langchain(),
    "langchain sentences": lambda: langchain(SENTENCE_SEPARATORS, keep_separator="end"),
}


class _Counting:
    def __init__(self, count: CountTokens):
        self.count, self.calls = count, 0

    def __call__(self, text: str) -> int:
        self.calls += 1
        return self.count(text)


def _slug(title: str) -> str:
    return re.sub(r"\W+", "_", title).strip("_")


def measure(log: Log = print, max_queries: int = 400, seed: int = 13) -> dict:
    from noticebot.adapters.local.hybrid_index import EmbeddedHybridIndex
    from noticebot.adapters.local.onnx_embedder import OnnxEmbedder
    from noticebot.ports.vector_index import SearchQuery
    from noticebot.services.ingest import _embedding_text, embed_chunks

    started = time.perf_counter()
    ds = load_dataset("xquad_en")
    docs = articles(ds.corpus)
    texts = dict(docs)
    title_of = {row["_id"]: row["title"] for row in ds.corpus}
    eligible = [q for q in ds.queries if q.answers and any(c in title_of for c in q.gold)]
    sample = sample_queries(eligible, max_queries, seed)
    embedder = OnnxEmbedder()
    embedder.count_tokens("warm up")
    embedder.embed_query("warm up")
    t0 = time.perf_counter()
    qvecs = [embedder.embed_query(q.text) for q in sample]
    log(f"{len(docs)} articles, {len(sample)} questions embedded in "
        f"{time.perf_counter() - t0:.1f}s")

    def embed_text(title: str, text: str) -> str:
        return _embedding_text(Chunk(chunk_id="", document_id="", ordinal=0, text=text,
                                     title=title))

    result: dict = {"config": {"dataset": "xquad_en", "articles": len(docs),
                               "questions": len(sample), "seed": seed, "max_tokens": MAX_TOKENS,
                               "overlap_tokens": OVERLAP_TOKENS, "top_k": TOP_K,
                               "mode": "hybrid", "embedder": embedder.model_id},
                    "splitters": {}}
    per_question: dict[str, list[dict[str, float]]] = {}
    for name, make in SPLITTERS.items():
        split = make()
        counter = _Counting(embedder.count_tokens)
        t0 = time.perf_counter()
        pieces = [(title, c) for title, text in docs for c in split(text, counter)]
        chunk_s = time.perf_counter() - t0
        stats = shape(pieces, texts, embedder.count_tokens, embed_text)
        stats.update(chunk_s=round(chunk_s, 3), tokenizer_calls=counter.calls)
        ordinals: dict[str, int] = {}
        chunks = []
        for title, text in pieces:
            doc = _slug(title)
            ordinals[doc] = ordinals.get(doc, -1) + 1
            chunks.append(Chunk(chunk_id=f"{doc}:{ordinals[doc]}", document_id=doc,
                                ordinal=ordinals[doc], text=text, title=title))
        t0 = time.perf_counter()
        chunks = embed_chunks(embedder, chunks)
        stats["embed_s"] = round(time.perf_counter() - t0, 1)
        rows, answerable = [], 0
        with tempfile.TemporaryDirectory(prefix="bench-splitters-") as tmp:
            index = EmbeddedHybridIndex(Path(tmp))
            try:
                index.upsert(WORKSPACE, chunks)
                for q, vec in zip(sample, qvecs):
                    gold = next(title_of[c] for c in q.gold if c in title_of)
                    answerable += any(is_hit(c.title, c.text, gold, q.answers) for c in chunks)
                    hits = index.search(WORKSPACE, SearchQuery(text=q.text, vector=vec,
                                                               top_k=TOP_K, mode="hybrid"))
                    rows.append(rank_scores([is_hit(h.chunk.title, h.chunk.text, gold, q.answers)
                                             for h in hits]))
            finally:
                index.close()
        stats.update(mean_rows(rows))
        stats["answerable"] = round(answerable / len(sample), 4)
        per_question[name] = rows
        result["splitters"][name] = stats
        log(f"{name}: {stats['chunks']} chunks, chunked in {chunk_s:.2f}s, embedded in "
            f"{stats['embed_s']}s, R@5 {stats['recall@5']:.3f}, MRR@10 {stats['mrr@10']:.3f}")
    for metric in ("recall@5", "mrr@10"):  # paired over the same questions
        result[f"{metric}_diff"] = {
            f"ours - {name}": bootstrap_diff([r[metric] for r in per_question["ours"]],
                                             [r[metric] for r in per_question[name]], 1000, seed)
            for name in SPLITTERS if name != "ours"}
    result["wall_s"] = round(time.perf_counter() - started, 1)
    return result


# ------------------------------------------------------------------ report
def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def markdown(result: dict) -> list[str]:
    cfg, by = result["config"], result["splitters"]
    lines = [
        "## Chunking: ours vs langchain-text-splitters",
        "",
        f"The {cfg['articles']} XQuAD articles (paragraphs joined by blank lines, long documents "
        f"like real uploads), chunked at {cfg['max_tokens']} tokens / {cfg['overlap_tokens']} "
        f"overlap with the embedder's tokenizer; each chunk set embedded as ingest does "
        f"({cfg['embedder']}, title prefix) into its own hybrid index. {cfg['questions']} "
        f"seeded questions (seed {cfg['seed']}), hybrid top {cfg['top_k']}; a hit is a chunk "
        "of the gold article containing a gold answer. *trunc.*: chunks the embedder truncates "
        "(title + text + 2 special tokens > 256); *overlap*: mean tokens shared with the "
        "previous chunk (share of boundaries with none); *mid-sent.*: chunks that start inside "
        "a sentence; *answerable*: questions whose answer is whole in some chunk of the gold "
        "article.",
        "",
        "| splitter | chunks | mean / max tokens | > 200 | > 256 | trunc. | overlap | mid-sent. | "
        "chunk s (tokenizer calls) | embed s | answerable | R@1 | R@5 | R@10 | MRR@10 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, s in by.items():
        lines.append(
            f"| {name} | {s['chunks']} | {s['mean_tokens']} / {s['max_tokens']} | "
            f"{_pct(s['over_200'])} | {_pct(s['over_256'])} | {_pct(s['embed_truncated'])} | "
            f"{s['mean_overlap_tokens']} ({_pct(s['no_overlap'])}) | "
            f"{_pct(s['mid_sentence_starts'])} | {s['chunk_s']:.2f} ({s['tokenizer_calls']}) | "
            f"{s['embed_s']} | "
            f"{_pct(s['answerable'])} | {s['recall@1']:.3f} | {s['recall@5']:.3f} | "
            f"{s['recall@10']:.3f} | {s['mrr@10']:.3f} |")
    lines += ["", _finding(result)]
    return lines


def _ci(d: dict[str, float]) -> str:
    return f"{d['mean']:+.3f} [{d['lo']:+.3f}, {d['hi']:+.3f}]"


def _finding(result: dict) -> str:
    """One line: the retrieval verdict from the paired CIs, then who wins on overlap and on
    tokens to embed, with the numbers."""
    by, o = result["splitters"], result["splitters"]["ours"]
    others = [k.split(" - ", 1)[1] for k in result["recall@5_diff"]]
    r5 = {n: result["recall@5_diff"][f"ours - {n}"] for n in others}
    mrr = {n: result["mrr@10_diff"][f"ours - {n}"] for n in others}
    better = [n for n in others if r5[n]["hi"] < 0 or mrr[n]["hi"] < 0]
    worse = [n for n in others if r5[n]["lo"] > 0 or mrr[n]["lo"] > 0]
    verdict = (f"{' and '.join(better)} retrieves better than ours" if better else
               f"ours retrieves better than {' and '.join(worse)}" if worse else
               "retrieval is a tie (every 95% CI of ours minus langchain includes 0)")
    cmp = "; ".join(f"{n} {by[n]['recall@5']:.3f} / {by[n]['mrr@10']:.3f} (diff R@5 "
                    f"{_ci(r5[n])}, MRR {_ci(mrr[n])})" for n in others)
    most_overlap = max(by, key=lambda n: by[n]["mean_overlap_tokens"])
    fewest = min(by, key=lambda n: by[n]["total_tokens"])
    overlap = ", ".join(f"{n} {s['mean_overlap_tokens']} / {_pct(s['no_overlap'])}"
                        for n, s in by.items())
    volume = ", ".join(f"{n} {s['total_tokens']}" for n, s in by.items())
    over = max(s["over_200"] for s in by.values())
    return (f"**Finding:** {verdict}: R@5 / MRR@10 ours {o['recall@5']:.3f} / "
            f"{o['mrr@10']:.3f}, {cmp}. {most_overlap} wins on overlap (mean tokens / boundaries "
            f"without: {overlap}); {fewest} on tokens to embed ({volume}); "
            + ("no splitter exceeds 200 tokens." if over == 0 else
               f"chunks over 200 tokens: up to {_pct(over)}."))


if __name__ == "__main__":
    import sys

    print("\n".join(markdown(measure(log=lambda m: print(m, file=sys.stderr)))))
