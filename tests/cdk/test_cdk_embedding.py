"""The embed function: who may call it, what it may reach, and who uses it."""

from __future__ import annotations

from cdk_testlib import as_list, render, resources
from noticebot.environment import EnvVar


def functions_by_name(template) -> dict[str, tuple[str, dict]]:
    return {f["Properties"]["FunctionName"]: (k, f["Properties"])
            for k, f in resources(template, "AWS::Lambda::Function").items()
            if isinstance(f["Properties"].get("FunctionName"), str)}


def alias(template) -> tuple[str, dict]:
    (found,) = [(k, a["Properties"]) for k, a in resources(template, "AWS::Lambda::Alias").items()
                if k.startswith("Embedding")]
    return found


def test_the_embed_function_runs_both_models_and_reaches_nothing(dev, config):
    key, props = functions_by_name(dev)["noticebot-dev-embed"]
    assert props["Handler"] == "noticebot.handlers.embed.handler"
    assert props["MemorySize"] == config.stages["dev"].functions.embed_memory_mb
    assert props["Timeout"] <= 28  # called synchronously inside API Gateway's 29 s
    env = props["Environment"]["Variables"]
    assert env[EnvVar.EMBED_MODEL_DIR] == "/var/task/models/bge_small_en"
    assert not {EnvVar.BUCKET, EnvVar.TABLE, EnvVar.SEARCH_ENDPOINT} & set(env)
    # Its role: its own logs and X-Ray, nothing else.
    (policy,) = [p for k, p in resources(dev, "AWS::IAM::Policy").items()
                 if k.startswith("EmbeddingFunctionRole")]
    actions = {a for s in policy["Properties"]["PolicyDocument"]["Statement"]
               for a in as_list(s["Action"])}
    assert actions == {"logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments",
                       "xray:PutTelemetryRecords"}


def test_callers_use_the_live_alias_and_only_they_may(dev):
    alias_id, props = alias(dev)
    assert props["Name"] == "live"
    names = functions_by_name(dev)
    for caller in ("noticebot-dev-api", "noticebot-dev-chat", "noticebot-dev-transcription"):
        env = names[caller][1]["Environment"]["Variables"]
        assert render(env[EnvVar.EMBED_FUNCTION]) == f"<{alias_id}>", caller
    for other in ("noticebot-dev-ingest", "noticebot-dev-deploy", "noticebot-dev-embed"):
        assert EnvVar.EMBED_FUNCTION not in names[other][1]["Environment"]["Variables"]
    invokers = {}
    for k, p in resources(dev, "AWS::IAM::Policy").items():
        for s in p["Properties"]["PolicyDocument"]["Statement"]:
            if "lambda:InvokeFunction" in as_list(s["Action"]):
                invokers[k] = [render(r) for r in as_list(s["Resource"])]
    callers = {k.split("Role")[0]: v for k, v in invokers.items()}
    # Vectors and, for those that search, rerank scores: the same alias, no new grant.
    assert callers == {"ApiHandler": [f"<{alias_id}>"], "ApiChat": [f"<{alias_id}>"],
                       "IngestionTranscription": [f"<{alias_id}>"]}
    # No resource policy opens it to anyone else (API Gateway, other accounts).
    assert not [p for p in resources(dev, "AWS::Lambda::Permission").values()
                if "Embedding" in render(p["Properties"]["FunctionName"])]


def test_provisioned_concurrency_follows_the_stage(dev, prod, config):
    assert "ProvisionedConcurrencyConfig" not in alias(dev)[1]
    assert config.stages["dev"].functions.embed_provisioned_concurrency == 0
    want = config.stages["prod"].functions.embed_provisioned_concurrency
    assert want >= 1
    assert alias(prod)[1]["ProvisionedConcurrencyConfig"] == {
        "ProvisionedConcurrentExecutions": want}


def test_the_embed_function_has_error_and_throttle_alarms(dev):
    names = {a["Properties"].get("AlarmName") for a in resources(dev, "AWS::CloudWatch::Alarm").values()}
    assert {"noticebot-dev-embed-errors", "noticebot-dev-embed-throttles"} <= names
