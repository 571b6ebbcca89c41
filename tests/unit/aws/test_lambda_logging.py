"""The Lambda entry points log through Powertools: JSON lines at POWERTOOLS_LOG_LEVEL (which the
stacks set to INFO; Lambda's runtime otherwise leaves the root logger at WARNING and drops the
package's info lines), with the request id and a correlation id, and publish metrics in
CloudWatch's embedded metric format."""

from __future__ import annotations

import json
import logging

import pytest

from noticebot.handlers import deploy, lambda_logging


class Context:
    function_name = "noticebot-dev-deploy"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:noticebot-dev-deploy"
    aws_request_id = "req-1234"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@pytest.fixture()
def lambda_environment(monkeypatch, request):
    """A Lambda's environment; the package logger is put back as it was afterwards. Each test
    gets a service name of its own: Powertools keeps one logger per service name, whose
    handler writes to the stdout of the test that created it."""
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "noticebot-dev-deploy")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", f"noticebot-deploy-{request.node.name[-40:]}")
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "INFO")
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    package = logging.getLogger("noticebot")
    saved = (package.level, list(package.handlers), package.propagate)
    monkeypatch.setattr(lambda_logging, "_configured", False)
    monkeypatch.setattr(lambda_logging, "_tools", None)
    yield
    package.setLevel(saved[0])
    package.handlers[:] = saved[1]
    package.propagate = saved[2]


class FakeContainer:
    class settings:
        training_job_prefix = "noticebot-dev-ft-"


def json_lines(text: str) -> list[dict]:
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def test_info_lines_of_the_package_reach_the_log_as_json_with_the_request_id(
        lambda_environment, monkeypatch, capsys):
    monkeypatch.setattr(deploy, "lambda_container", lambda: FakeContainer())
    event = {"detail-type": "SageMaker Training Job State Change",
             "correlation": "x", "detail": {"TrainingJobName": "other-job"}}
    logging.getLogger().setLevel(logging.WARNING)  # Lambda's runtime default

    def handle(event, container):
        logging.getLogger("noticebot.services.models").info("registered adapter %s", "ft-1")
        return {"status": "completed"}

    monkeypatch.setattr(deploy, "handle", handle)
    assert deploy.handler(event, Context()) == {"status": "completed"}
    records = json_lines(capsys.readouterr().out)
    (line,) = [r for r in records if r.get("message") == "registered adapter ft-1"]
    assert line["level"] == "INFO"
    assert line["service"].startswith("noticebot-deploy")
    assert line["function_request_id"] == "req-1234"
    assert line["function_name"] == "noticebot-dev-deploy"
    assert line["name"] == "noticebot.services.models"
    # The invocation's metrics, in the embedded metric format (no API call).
    metrics = [r for r in records if "_aws" in r]
    names = {m["Name"] for r in metrics for d in r["_aws"]["CloudWatchMetrics"]
             for m in d["Metrics"]}
    assert {"FineTunesCompleted", "ColdStart"} <= names
    assert all(d["Namespace"] == "noticebot" for r in metrics
               for d in r["_aws"]["CloudWatchMetrics"])


def test_the_log_level_follows_powertools_log_level(lambda_environment, monkeypatch, capsys):
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
    monkeypatch.setattr(deploy, "lambda_container", lambda: FakeContainer())

    def handle(event, container):
        logging.getLogger("noticebot.x").info("quiet")
        logging.getLogger("noticebot.x").warning("loud")
        return {"status": "ignored"}

    monkeypatch.setattr(deploy, "handle", handle)
    deploy.handler({}, Context())
    messages = [r.get("message") for r in json_lines(capsys.readouterr().out)]
    assert "loud" in messages and "quiet" not in messages


def test_the_api_and_chat_functions_correlate_by_api_gateways_request_id(
        lambda_environment, monkeypatch, capsys):
    from noticebot.handlers import chat_function

    def respond(event, container, context=None):
        logging.getLogger("noticebot.services.chat").info("answered")
        return {"statusCode": 200, "body": "{}"}

    monkeypatch.setattr(chat_function, "respond", respond)
    monkeypatch.setattr(chat_function, "lambda_container", lambda: None)
    event = {"requestContext": {"requestId": "apigw-42"}, "httpMethod": "POST"}
    assert chat_function.handler(event, Context())["statusCode"] == 200
    (line,) = [r for r in json_lines(capsys.readouterr().out) if r.get("message") == "answered"]
    assert line["correlation_id"] == "apigw-42"


def test_a_call_without_a_lambda_context_runs_the_handler_as_it_is(monkeypatch):
    """The bundler's smoke test and scripts call handler(event, None)."""
    from noticebot.handlers import embed

    monkeypatch.setattr(lambda_logging, "_configured", True)
    assert "error" in embed.handler({"kind": "nonsense"}, None)


def test_local_callers_keep_the_standard_librarys_logging():
    """Nothing is configured at import: the local server and the tests call handle()."""
    import importlib

    from noticebot.handlers import ingest, transcription

    for module in (ingest, transcription, deploy):
        importlib.reload(module)
    assert logging.getLogger("noticebot").propagate is True


def test_a_call_without_a_lambda_context_leaves_the_callers_logging_alone():
    """Scripts and the bundler's smoke test call handler(event, None) in a process whose
    logging is their own: the package logger keeps propagating to the root's handlers."""
    from noticebot.handlers import embed

    package = logging.getLogger("noticebot")
    saved = lambda_logging._configured
    try:
        lambda_logging._configured = False
        embed.handler({"kind": "nonsense"}, None)
        assert lambda_logging._configured is False
        assert package.propagate is True
    finally:
        lambda_logging._configured = saved
