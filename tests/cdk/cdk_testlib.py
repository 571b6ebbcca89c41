"""Helpers for the infrastructure tests (synthesis, template queries)."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("CDK_DISABLE_CLI_TELEMETRY", "true")

import aws_cdk as cdk  # noqa: E402
from aws_cdk import assertions  # noqa: E402

import app as app_module  # noqa: E402
from cdk.assets import PLACEHOLDER_VALUE  # noqa: E402
from cdk.config import ASSETS_CONTEXT_KEY  # noqa: E402


def cdk_json_context() -> dict:
    return json.loads((ROOT / "cdk.json").read_text())["context"]


def make_app(**extra_context) -> cdk.App:
    context = {**cdk_json_context(), ASSETS_CONTEXT_KEY: PLACEHOLDER_VALUE, **extra_context}
    outdir = tempfile.mkdtemp(prefix="noticebot-cdk-test-")
    return cdk.App(context=context, outdir=outdir)


@dataclass
class Synth:
    app: cdk.App
    assembly: object | None  # CloudAssembly, None when validation failed
    violations: list[dict]  # cdk-nag (and other validation plugin) findings
    error: str | None

    def template(self, stage: str) -> dict:
        nested = self.assembly.get_nested_assembly(f"assembly-noticebot-pipeline-{stage}")
        return nested.get_stack_by_name(f"noticebot-{stage}-app").template

    def pipeline_template(self) -> dict:
        return self.assembly.get_stack_by_name("noticebot-pipeline").template


def synthesize(app: cdk.App) -> Synth:
    app_module.build(app)
    try:
        assembly = app.synth()
        error = None
    except RuntimeError as exc:  # ValidationFailed: findings are in the report
        assembly, error = None, str(exc)
    report = Path(app.outdir) / "validation-report.json"
    violations = []
    if report.is_file():
        for plugin in json.loads(report.read_text()).get("pluginReports", []):
            for v in plugin.get("violations", []):
                for c in v.get("violatingConstructs", []):
                    violations.append({"plugin": plugin.get("pluginName"), "rule": v["ruleName"],
                                       "severity": v.get("severity"),
                                       "path": c["constructPath"]})
    return Synth(app=app, assembly=assembly, violations=violations, error=error)


def resources(template: assertions.Template, type_: str) -> dict[str, dict]:
    return template.find_resources(type_)


def only(template: assertions.Template, type_: str) -> tuple[str, dict]:
    found = resources(template, type_)
    assert len(found) == 1, f"expected one {type_}, found {sorted(found)}"
    return next(iter(found.items()))


def function_of(template: assertions.Template, handler: str) -> tuple[str, dict]:
    """(logical id, properties) of the one Lambda function with ``handler``."""
    (found,) = [(k, v["Properties"]) for k, v in resources(template, "AWS::Lambda::Function").items()
                if v["Properties"]["Handler"] == handler]
    return found


def render(value) -> str:
    """A CloudFormation value as one string: {"Ref": X} -> <X>, joins concatenated."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if "Ref" in value:
            return f"<{value['Ref']}>"
        if "Fn::GetAtt" in value:
            return f"<{'.'.join(value['Fn::GetAtt'])}>"
        if "Fn::Join" in value:
            sep, parts = value["Fn::Join"]
            return sep.join(render(p) for p in parts)
    return json.dumps(value)


def as_list(x):
    return x if isinstance(x, list) else [x]
