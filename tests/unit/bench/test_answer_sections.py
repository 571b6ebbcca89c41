"""The answers / chat latency / model speed sections: their summaries and the tables that show
the committed report's figures beside the new ones."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import answers, llm_speed  # noqa: E402

PREVIOUS_REPORT = {
    "chat_quality": {"questions": 30, "contains_gold": 0.3333, "mean_f1": 0.101, "median_seconds": 5.01},
    "chat_speed": {"median_ttft_s": 4.095, "median_decode_tokens_per_s": 58.0, "median_total_s": 6.287},
}


def row(refused=False, gold=None, faithful=True, figures=(), support="supported", seconds=1.0):
    r = {"refused": refused, "support": "not_found" if refused else support, "seconds": seconds,
         "says_unknown": False}
    if gold is not None:
        r |= {"contains_gold": gold, "f1": 0.5 if gold else 0.0, "answer_in_context": True}
    if not refused:
        r |= {"faithful": faithful, "faithful_evidence": faithful,
              "unsupported_figures": list(figures), "figures_not_in_cited": list(figures)}
    return r


def test_summary_counts_refusals_gold_and_faithfulness_over_shown_answers_only():
    s = answers.summarise([row(gold=True), row(gold=False, faithful=False, figures=["7"]),
                           row(refused=True, gold=False), row(refused=True)])
    assert s["questions"] == 4 and s["refusal_rate"] == 0.5 and s["shown"] == 2
    assert s["contains_gold"] == round(1 / 3, 4)  # graded rows only
    assert s["contains_gold_when_shown"] == 0.5
    assert s["faithful"] == 0.5 and s["unsupported_figures"] == 1
    assert s["support_verdicts"] == {"not_found": 2, "supported": 2}


def test_a_refusal_is_not_found_or_ungrounded():
    class Result:
        def __init__(self, support, grounded):
            self.support, self.grounded = support, grounded
    assert answers.refused(Result("not_found", False))
    assert answers.refused(Result("evidence", False))
    assert not answers.refused(Result("evidence", True))


def answers_result():
    xs, ts = [row(gold=True)] * 3 + [row(gold=False)], [row(gold=True), row(gold=False)]
    unans = [row(refused=True)] * 3 + [row()]
    summary = {"xquad_en": answers.summarise(xs), "tatqa_dev": answers.summarise(ts),
               "all": answers.summarise(xs + ts)}
    held = answers.summarise(unans[:2]) | {"answer_still_retrieved": 1, "refusal_rate_incl_those": 0.5}
    other = answers.summarise(unans[2:]) | {"by_set": {"tatqa_dev": answers.summarise(unans[2:])}}
    return {"config": {"seed": 1, "chat_top_k": 4, "min_evidence_score": 0.5,
                       "ingest": {"passages": 10, "chunks": 12}},
            "targets": answers.TARGETS, "previous": answers.previous_figures(PREVIOUS_REPORT),
            "answerable": summary, "held_out": held, "other_set": other,
            "unanswerable": answers.summarise(unans), "timings_s": {"answerable_xquad_en_s": 1.0}}


def test_answer_tables_show_the_previous_figures_beside_the_new():
    text = "\n".join(answers.markdown_answers(answers_result()))
    assert "| xquad_en | 4 | **0.75** | >= 0.7 | 0.3333 (30 q) |" in text
    assert "| tatqa_dev | 2 | **0.5** | >= 0.5 | n/a |" in text
    assert "| **unanswerable, all** | 4 | **0.75** | >= 0.9 | n/a |" in text
    assert "faithful (cited passage)" in text


def test_a_later_report_compares_with_the_committed_answers_section():
    older = answers_result()
    prev = answers.previous_figures({"answers": older})
    newer = answers_result() | {"previous": prev}
    text = "\n".join(answers.markdown_answers(newer))
    assert "| xquad_en | 4 | **0.75** | >= 0.7 | 0.75 |" in text


def test_latency_table_previous_is_the_old_chat_median_and_cold_ttft():
    s = {"questions": 3, "first_token_p50_s": 0.4, "first_token_p95_s": 0.6, "chat_p50_s": 0.9,
         "chat_p95_s": 1.5, "rerank_added_p50_ms": 110.0, "rerank_added_p95_ms": 130.0,
         "evidence_added_p50_ms": 70.0, "two_thread_share": 1.0, "others_cpu_share": 0.0,
         "rows": []}
    res = {"config": {"questions": 3, "workspace_passages": 240, "chat_top_k": 4, "max_new_tokens": 200},
           "targets": {"chat_p50_s": 2.5, "first_token_p50_s": 1.0},
           "previous": answers.previous_figures(PREVIOUS_REPORT),
           "idle": s, "concurrent_ingest": s | {"with_ingest_running": 2, "rows": [{}] * 3,
                                               "uploaded": 9, "ingested_meanwhile": 4},
           "idle (previous settings)": s | {"first_token_p50_s": 1.2}}
    text = "\n".join(answers.markdown_latency(res))
    assert "| ingest worker idle (previous settings) | 3 | **1.2** / 0.6 |" in text
    assert "NOTICEBOT_LLM_WEIGHTS=as-is" in text
    assert "| ingest worker idle | 3 | **0.4** / 0.6 | < 1.0 | **0.9** / 1.5 | < 2.5 |" in text
    assert "| 4.095 / 5.01 |" in text
    assert "| ingest worker ingesting | 2 of 3 |" in text


def test_model_speed_rows_show_the_older_chat_speed_run_beside_the_before_configuration():
    r = {"config": "shipped Q4_1, 1 thread (before)", "prompt_tokens": 601, "prefill_cold_ms": 4100,
         "prefill_warm_ms": 3900, "prefill_tok_s": 146, "decode_tok_s": 49.6, "ttft_s": 3.92,
         "total_s": 6.5, "others_cpu_share": [0.0, 0.01], "rounds_used": 2}
    res = {"rows": [r], "rounds": 2, "cpus": 2, "system_prefix_tokens": 63, "new_tokens": 128,
           "previous": llm_speed.previous_figures(PREVIOUS_REPORT)}
    text = "\n".join(llm_speed.markdown(res))
    assert "| shipped Q4_1, 1 thread (before) | 601 | 4100 / 3900 | 146 | 49.6 | 3.92 | 6.5 | " \
           "4.095 / 6.287 (cold) | 0.0, 0.01 | 2 |" in text
    again = llm_speed.previous_figures({"llm_speed": {"rows": [r]}})
    assert "| 3.92 / 6.5 |" in "\n".join(llm_speed.markdown(res | {"previous": again}))
