"""The steps' bookkeeping and their checks, against a hand-written API that answers from a
script of responses (no HTTP)."""

import pytest
from smoke import documents
from smoke.report import FAILED, PASSED, SKIPPED, Run, StepFailed, render
from smoke.steps import SmokeSteps, Waits, poll


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_a_failed_step_is_named_and_the_rest_are_skipped():
    clock = Clock()
    run = Run(clock=clock)

    def slow():
        clock.sleep(2.5)
        return "done"

    def broken():
        raise StepFailed("expected HTTP 200, got 503")

    run.step("one", slow)
    run.step("two", broken)
    run.step("three", lambda: "never runs")
    assert [(r.name, r.status) for r in run.results] == [
        ("one", PASSED), ("two", FAILED), ("three", SKIPPED)]
    assert run.results[0].seconds == 2.5
    report = render(run.results, substitutions=["OpenSearch: the local index"])
    assert "FAILED at 'two': expected HTTP 200, got 503" in report
    assert "  - OpenSearch: the local index" in report


def test_an_unexpected_error_fails_its_step_with_its_type():
    run = Run()
    run.step("boom", lambda: {}["missing"])
    assert run.results[0].status == FAILED and run.results[0].detail.startswith("KeyError")


def test_poll_gives_up_at_its_deadline():
    clock = Clock()
    calls = []
    assert poll(lambda: calls.append(1), 10, 2, sleep=clock.sleep, clock=clock) is None
    assert len(calls) == 6 and clock.now == 10
    assert poll(lambda: "ready", 10, 2, sleep=clock.sleep, clock=clock) == "ready"


class ScriptedApi:
    """Answers each (method, path) from a list of (status, body), in order."""

    def __init__(self, script: dict):
        self.script = {k: list(v) for k, v in script.items()}
        self.calls = []

    def call(self, method, path, body=None):
        self.calls.append((method, path, body))
        answers = self.script[(method, path)]
        return answers.pop(0) if len(answers) > 1 else answers[0]


class Target:
    api_url, token = "http://127.0.0.1:1/api", "token"
    waits = Waits(poll_s=0, ingest_s=0.5, model_s=0.5, training_s=0.5, adapter_s=0.5)

    def __init__(self):
        self.expected = []

    def expect_answer(self, text):
        self.expected.append(text)


def answer(model="llama3-base", doc="d1", warning=None):
    return {"answer": "Yes [1].", "citations": [{"document_id": doc}], "conversation_id": "c1",
            "model": model, "support": "supported", "warning": warning}


def steps_with(script):
    target = Target()
    steps = SmokeSteps(target, api=ScriptedApi(script))
    steps.state.documents = {"d1": documents.HANDBOOK_NAME}
    return steps, target


def test_chat_waits_out_a_503_while_the_model_scales_from_zero():
    steps, target = steps_with({("POST", "/chat"): [(503, {"error": {"code": "model_unavailable"}}),
                                                    (200, answer())]})
    assert "model llama3-base, support supported" in steps.chat()
    assert target.expected == [documents.ANSWER, documents.ANSWER]


def test_chat_fails_without_a_citation_of_an_uploaded_document():
    steps, _ = steps_with({("POST", "/chat"): [(200, answer(doc="someone-else"))]})
    with pytest.raises(StepFailed, match="no citation of an uploaded document"):
        steps.chat()


def test_the_adapter_chat_is_retried_while_the_base_model_answers_instead():
    steps, _ = steps_with({("POST", "/chat"): [
        (200, answer(warning="Your workspace's model is loading")),
        (200, answer(model="ft-1"))]})
    steps.state.model_id = "ft-1"
    assert steps.chat_with_adapter().startswith("model ft-1")
    assert steps.api.calls[-1][2] == {"query": documents.QUESTION, "model": "ft-1"}


def test_the_adapter_chat_fails_when_only_the_base_model_ever_answers():
    steps, _ = steps_with({("POST", "/chat"): [(200, answer(warning="loading"))]})
    steps.state.model_id = "ft-1"
    with pytest.raises(StepFailed, match="no answer as asked"):
        steps.chat_with_adapter()


def test_a_failed_fine_tune_fails_the_adapter_step_with_its_error():
    steps, _ = steps_with({("GET", "/fine-tune/j1"): [
        (200, {"status": "running"}), (200, {"status": "failed", "error": "no spot capacity"})]})
    steps.state.job_id = "j1"
    with pytest.raises(StepFailed, match="failed: no spot capacity"):
        steps.adapter()


def test_ingest_reports_a_document_that_failed():
    steps, _ = steps_with({("GET", "/documents/d1"): [
        (200, {"status": "failed", "error": "unreadable", "chunk_count": 0})]})
    with pytest.raises(StepFailed, match="failed to ingest: unreadable"):
        steps.ingest()


def test_the_faq_has_enough_rows_for_a_fine_tune_dataset():
    from noticebot.services.finetune_dataset import DatasetLimits

    limits = DatasetLimits()
    rows = documents.faq_csv().decode().splitlines()
    assert rows[0] == "question,answer"
    assert len(rows) - 1 >= limits.min_train + limits.min_validation
