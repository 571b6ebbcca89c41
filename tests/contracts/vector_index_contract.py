"""The VectorIndex conformance suite. Every adapter runs it by subclassing and providing an
``index`` fixture (an empty index, vectors of ``DIM`` dimensions):

- ``tests/unit/aws/test_vector_index_conformance.py`` runs it against the local
  ``EmbeddedHybridIndex`` (always) and against a real OpenSearch cluster through
  ``OpenSearchVectorIndex`` when ``OPENSEARCH_URL`` is set (skipped otherwise):

      OPENSEARCH_URL=https://admin:pass@localhost:9200 pytest tests/unit/aws -k conformance
      # a domain or Serverless collection, signed with the caller's AWS credentials:
      OPENSEARCH_URL=https://search-xyz.eu-west-1.es.amazonaws.com OPENSEARCH_SERVICE=es ...
      OPENSEARCH_URL=https://abc.eu-west-1.aoss.amazonaws.com OPENSEARCH_SERVICE=aoss ...

  Each OpenSearch test creates its own index ``noticebot-contract-<random>`` and
  deletes it afterwards.
- ``settle(index)`` runs after writes: a no-op for indexes that are consistent at
  once; the OpenSearch subclass refreshes (domain) or waits (Serverless).

What it pins down is what services rely on: workspace isolation (even for colliding
chunk ids), replacement by chunk id, deletion by document, expiry, narrowing,
``top_k``, the score fields (``dense_score`` is the cosine the relevance gate
thresholds; ``bm25_score`` > 0 means a lexical match) and the chunk round trip.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from noticebot.domain.models import Chunk
from noticebot.ports.vector_index import SearchQuery

DIM = 384
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
_WORD = re.compile(r"[a-z0-9]+")
_STOP = {"the", "a", "an", "is", "are", "of", "to", "in", "on", "and", "or", "for", "what",
         "when", "must", "be", "at", "by", "with", "our", "all"}


def vec(text: str) -> np.ndarray:
    """Hashed bag of words, L2-normalised: texts sharing words get close vectors."""
    v = np.zeros(DIM, dtype=np.float32)
    for word in _WORD.findall(text.lower()):
        if word not in _STOP:
            h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little")
            v[h % DIM] += 1.0
    n = np.linalg.norm(v)
    return v / n if n else v


def chunk(doc: str, n: int, text: str, **kw) -> Chunk:
    return Chunk(chunk_id=f"{doc}:{n}", document_id=doc, ordinal=n, text=text,
                 vector=vec(f"{kw.get('title', '')} {text}"), **kw)


def query(text: str, mode: str = "hybrid", top_k: int = 5, **kw) -> SearchQuery:
    return SearchQuery(text=text, vector=None if mode == "bm25" else vec(text), top_k=top_k,
                       mode=mode, now=kw.pop("now", NOW), **kw)


BOARD = [
    chunk("rules", 0, "Members must wear bicycle helmets on every club ride.", title="Club rules",
          page=1, heading="Safety", metadata={"filename": "rules.pdf", "kind": "pdf"}),
    chunk("rules", 1, "Rides start at the north gate of the park at nine.", title="Club rules", page=2),
    chunk("bake", 0, "The bake sale raises money for new team jerseys.", title="Bake sale"),
    chunk("pool", 0, "The swimming pool is closed for repairs until spring.", title="Pool notice"),
]


class VectorIndexContract:
    def settle(self, index) -> None:
        """Make writes visible to searches (refresh). No-op by default."""

    def load(self, index, workspace: str = "riverside", chunks=BOARD) -> None:
        index.upsert(workspace, chunks)
        self.settle(index)

    def ids(self, hits) -> list[str]:
        return [h.chunk.chunk_id for h in hits]

    def test_count_and_workspace_isolation(self, index):
        self.load(index)
        self.load(index, "other-club", [chunk("x", 0, "Helmets are optional on the beach ride.")])
        assert index.count("riverside") == 4 and index.count("other-club") == 1
        assert index.count("nobody") == 0
        for mode in ("hybrid", "bm25", "dense"):
            hits = index.search("other-club", query("bicycle helmets club ride", mode))
            assert self.ids(hits) == ["x:0"], mode

    def test_colliding_chunk_ids_stay_in_their_workspace(self, index):
        self.load(index, "a", [chunk("d", 0, "Apples grow in the orchard.")])
        self.load(index, "b", [chunk("d", 0, "Boats sail in the harbour.")])
        assert index.search("a", query("orchard apples", "bm25"))[0].chunk.text.startswith("Apples")
        assert index.search("b", query("orchard apples", "bm25")) == []
        assert index.delete_document("b", "d") == 1
        self.settle(index)
        assert index.count("a") == 1

    def test_upsert_replaces_by_chunk_id(self, index):
        self.load(index)
        self.load(index, chunks=[chunk("pool", 0, "The swimming pool reopens on Monday.",
                                       title="Pool notice")])
        assert index.count("riverside") == 4
        hits = index.search("riverside", query("swimming pool", "bm25"))
        assert [h.chunk.text for h in hits] == ["The swimming pool reopens on Monday."]

    def test_delete_document_removes_only_its_chunks(self, index):
        self.load(index)
        assert index.delete_document("riverside", "rules") == 2
        self.settle(index)
        assert index.count("riverside") == 2
        assert index.delete_document("riverside", "rules") == 0
        assert index.delete_document("other-club", "bake") == 0
        self.settle(index)
        assert "rules:0" not in self.ids(index.search("riverside", query("helmets club rules")))

    def test_bm25_returns_lexical_matches_best_first(self, index):
        self.load(index)
        hits = index.search("riverside", query("helmets", "bm25"))
        assert self.ids(hits) == ["rules:0"]
        assert hits[0].bm25_score > 0 and hits[0].score == pytest.approx(hits[0].bm25_score)
        assert index.search("riverside", query("zebra crossing", "bm25")) == []

    def test_dense_scores_are_cosines(self, index):
        self.load(index)
        q = query("bake sale jerseys money", "dense", top_k=4)
        hits = index.search("riverside", q)
        assert len(hits) == 4 and hits[0].chunk.chunk_id == "bake:0"
        expected = float(np.dot(vec("Bake sale The bake sale raises money for new team jerseys."),
                                q.vector))
        assert hits[0].dense_score == pytest.approx(expected, abs=2e-3)
        assert hits[0].score == pytest.approx(hits[0].dense_score)
        assert [h.dense_score for h in hits] == sorted((h.dense_score for h in hits), reverse=True)

    def test_hybrid_ranks_a_match_of_both_first_and_reports_both_scores(self, index):
        self.load(index)
        hits = index.search("riverside", query("bicycle helmets on club rides", top_k=3))
        assert hits[0].chunk.chunk_id == "rules:0" and len(hits) == 3
        for hit in hits:
            assert hit.bm25_score is not None and hit.dense_score is not None
        assert hits[0].bm25_score > 0
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)

    def test_expired_chunks_are_never_returned(self, index):
        self.load(index, chunks=[
            chunk("n1", 0, "Choir practice moves to Tuesday.", expires_at=NOW - timedelta(hours=1)),
            chunk("n2", 0, "Choir concert on Friday evening.", expires_at=NOW + timedelta(days=3)),
        ])
        for mode in ("hybrid", "bm25", "dense"):
            assert self.ids(index.search("riverside", query("choir", mode))) == ["n2:0"], mode
        later = query("choir", "bm25", now=NOW + timedelta(days=4))
        assert index.search("riverside", later) == []

    def test_document_ids_narrow_inside_the_workspace(self, index):
        self.load(index)
        q = query("club rides helmets pool bake", document_ids=frozenset({"pool"}))
        assert {h.chunk.document_id for h in index.search("riverside", q)} == {"pool"}

    def test_top_k_and_chunk_round_trip(self, index):
        self.load(index)
        assert len(index.search("riverside", query("the club", "dense", top_k=2))) == 2
        hit = index.search("riverside", query("helmets", "bm25"))[0]
        c = hit.chunk
        assert (c.document_id, c.ordinal, c.title, c.page, c.heading) == (
            "rules", 0, "Club rules", 1, "Safety")
        assert c.metadata == {"filename": "rules.pdf", "kind": "pdf"}
        assert c.text == BOARD[0].text and c.expires_at is None

    def test_expiry_round_trips(self, index):
        when = NOW + timedelta(days=2)
        self.load(index, chunks=[chunk("n", 0, "Fireworks tonight.", expires_at=when)])
        assert index.search("riverside", query("fireworks", "bm25"))[0].chunk.expires_at == when

    def test_empty_workspace_and_missing_workspace_id(self, index):
        assert index.search("empty", query("anything")) == []
        with pytest.raises(ValueError):
            index.search("", query("anything"))
        with pytest.raises(ValueError):
            index.upsert("", BOARD)

    def test_bad_queries_are_value_errors(self, index):
        self.load(index)
        with pytest.raises(ValueError):
            index.search("riverside", SearchQuery(text="x", vector=None, mode="dense"))
        with pytest.raises(ValueError):
            index.search("riverside", SearchQuery(text="x", vector=vec("x"), mode="fuzzy"))

    def test_chunks_lists_one_workspace_in_document_order(self, index):
        self.load(index)
        self.load(index, "other-club", [chunk("x", 0, "Helmets are optional on the beach ride.")])
        listed = index.chunks("riverside")
        assert [c.chunk_id for c in listed] == ["bake:0", "pool:0", "rules:0", "rules:1"]
        assert listed[2].text == BOARD[0].text and listed[2].title == "Club rules"
        assert [c.chunk_id for c in index.chunks("riverside", limit=2)] == ["bake:0", "pool:0"]
        assert index.chunks("nobody") == []
        with pytest.raises(ValueError):
            index.chunks("")
