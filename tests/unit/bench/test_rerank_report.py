"""The reranking measurements as report.md renders them."""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import rerank  # noqa: E402

RESULT = {
    "config": {"max_queries": 2, "seed": 1, "top_k": 10, "model_id": "xenc", "threads": 2,
               "product_candidates": 5, "product_tokens": 256, "machine": "2 CPUs"},
    "datasets": {
        "setA": {"queries": 2, "variants": {
            "hybrid": {"ndcg@10": 0.5, "recall@5": 0.5},
            "rerank 5 @ 256 tok": {"ndcg@10": 0.75, "recall@5": 0.5,
                                   "added_ms_p50": 120.0, "added_ms_p95": 150.0},
        }},
    },
}


def test_each_variant_is_a_row_and_the_product_setting_is_marked():
    lines = rerank.markdown(RESULT)
    rows = [line for line in lines if line.startswith("| ") and "variant" not in line]
    assert rows == ["| hybrid | 0.500 / 0.500 / - |",
                    "| **rerank 5 @ 256 tok** | 0.750 / 0.500 / 120.0 / 150.0 |"]


def test_recorded_in_the_retrieval_section_of_the_existing_report(tmp_path):
    before = json.loads((ROOT / "bench" / "report.json").read_text())
    before.pop("reranking", None)
    (tmp_path / "report.json").write_text(json.dumps(before))
    rerank.record_in_report(RESULT, tmp_path)
    text = (tmp_path / "report.md").read_text()
    section = text[text.index("## 1. Retrieval quality"):text.index("## 2. Ingest throughput")]
    assert "| **rerank 5 @ 256 tok** | 0.750 / 0.500 / 120.0 / 150.0 |" in section
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved["reranking"] == RESULT and saved["retrieval"] == before["retrieval"]
