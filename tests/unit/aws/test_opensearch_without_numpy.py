"""The API bundle ships without numpy (50 MB limit): the OpenSearch adapter must import, write
and run a hybrid search with numpy unimportable, on vectors that are plain lists of floats.

A subprocess, because this process has long imported numpy; ``sys.modules["numpy"] = None``
makes every ``import numpy`` there raise ImportError, as on the Lambda."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = """
import json, sys
sys.modules["numpy"] = None  # any import of numpy now raises ImportError
from noticebot.adapters.aws.opensearch_index import OpenSearchVectorIndex
from noticebot.domain.models import Chunk
from noticebot.ports.vector_index import SearchQuery
from opensearch_fake import FakeCluster

def vec(*hot):
    return [1.0 if i in hot else 0.0 for i in range(8)]

cluster = FakeCluster()
index = OpenSearchVectorIndex(cluster.client(), "noticebot-chunks", dimension=8, candidates=1)
index.upsert("riverside", [
    Chunk(chunk_id="rules:0", document_id="rules", ordinal=0, vector=vec(0, 1),
          text="Members must wear bicycle helmets on every ride."),
    Chunk(chunk_id="pool:0", document_id="pool", ordinal=0, vector=vec(2),
          text="The swimming pool is closed for repairs."),
    Chunk(chunk_id="bake:0", document_id="bake", ordinal=0, vector=[0.0] * 7 + [3],
          text="The bake sale raises money for jerseys."),
])
hits = {mode: index.search("riverside", SearchQuery(text="bicycle helmets", mode=mode,
                                                     vector=[0.9, 1.1] + [0.0] * 6, top_k=3))
        for mode in ("hybrid", "dense", "bm25")}
numpy_loaded = any(m == "numpy" or m.startswith("numpy.")
                   for m, mod in sys.modules.items() if mod is not None)
print(json.dumps({
    "numpy_loaded": numpy_loaded,
    "paths": sorted({path for _, path, _, _ in cluster.requests}),
    "hits": {mode: [[h.chunk.chunk_id, h.score, h.bm25_score, h.dense_score] for h in found]
             for mode, found in hits.items()},
}))
"""


def test_upsert_and_hybrid_search_run_with_numpy_blocked():
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120,
        cwd=ROOT, env={**os.environ,
                       "PYTHONPATH": f"{ROOT / 'lambdas'}:{ROOT / 'tests' / 'unit' / 'aws'}"})
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["numpy_loaded"] is False
    assert result["paths"] == ["/_index_template/noticebot-chunks", "/noticebot-chunks",
                               "/noticebot-chunks/_bulk", "/noticebot-chunks/_msearch"]
    hybrid = result["hits"]["hybrid"]
    assert [h[0] for h in hybrid] == ["rules:0", "pool:0", "bake:0"]
    chunk_id, score, bm25, dense = hybrid[0]
    assert score == 1.0 and bm25 > 0  # the only lexical match and the closest vector
    assert abs(dense - (0.9 + 1.1) / 2 ** 0.5 / (0.9 ** 2 + 1.1 ** 2) ** 0.5) < 1e-6
    assert [h[0] for h in result["hits"]["dense"]][0] == "rules:0"
    assert [h[0] for h in result["hits"]["bm25"]] == ["rules:0"]
