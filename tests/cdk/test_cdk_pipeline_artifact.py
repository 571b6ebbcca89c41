"""What the release pipeline needs from a real account, checked at synth.

- Its source: a CodeConnections connection someone approved by hand. The example ARN the
  project once shipped is refused at synth (tests/cdk/test_cdk_config.py); with none
  configured the stack creates one, PENDING until approved, and says so in an output.
- Its artifacts: CodePipeline hands the whole cloud assembly (templates and assets) to the
  CloudFormation deploy actions, whose input artifacts may not exceed 256 MB. The assembly is
  mostly the Lambda bundles, so its zipped size is measured here with the real bundles
  (scripts/build_lambda_bundles.py output; the test skips where they are not built).
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from pathlib import Path

import pytest
from cdk_testlib import ROOT, cdk_json_context, make_app, only, resources, synthesize

from cdk.config import ASSETS_CONTEXT_KEY
from noticebot.functions import FUNCTIONS

# CloudFormation actions' input artifact limit (CodePipeline quotas), in bytes.
CFN_ACTION_INPUT_LIMIT = 256 * 10**6
# What the assembly may reach before someone must act (cdk/README.md, "Pipeline artifacts"):
# room for the bundles to grow, below the limit.
ARTIFACT_BUDGET = 230 * 10**6


def source_action(template: dict) -> dict:
    (_, pipeline), = [(k, v) for k, v in template["Resources"].items()
                      if v["Type"] == "AWS::CodePipeline::Pipeline"]
    source = next(s for s in pipeline["Properties"]["Stages"] if s["Name"] == "Source")
    (action,) = source["Actions"]
    return action


def test_without_a_connection_the_stack_creates_one_to_approve(pipeline, config):
    assert config.pipeline.connection_arn == ""
    conn_id, conn = only(pipeline, "AWS::CodeStarConnections::Connection")
    assert conn["Properties"]["ProviderType"] == config.pipeline.connection_provider
    action = source_action(pipeline.to_json())
    assert action["Configuration"]["ConnectionArn"] == {
        "Fn::GetAtt": [conn_id, "ConnectionArn"]}
    assert action["Configuration"]["FullRepositoryId"] == config.pipeline.repository
    outputs = pipeline.to_json()["Outputs"]
    (output,) = [o for k, o in outputs.items() if k.startswith("SourceConnectionArn")]
    assert "Approve" in output["Description"]


def test_a_configured_connection_is_used_and_none_is_created():
    raw = cdk_json_context()["noticebot"]
    arn = ("arn:aws:codeconnections:us-east-1:210987654321:connection/"
           "4f2b8c1e-9a7d-4e3b-8f61-2c5d9e0a7b34")
    raw["pipeline"]["connection_arn"] = arn
    result = synthesize(make_app(noticebot=raw, **{"noticebot:nag": "false"}))
    assert result.assembly is not None, result.error
    template = result.pipeline_template()
    assert not [r for r in template["Resources"].values()
                if r["Type"] == "AWS::CodeStarConnections::Connection"]
    assert source_action(template)["Configuration"]["ConnectionArn"] == arn


def zipped_size(folder: Path) -> int:
    """The assembly zipped as CodeBuild packages an output artifact (deflate)."""
    class Counter(io.RawIOBase):
        n = 0

        def writable(self):
            return True

        def write(self, data):
            self.n += len(data)
            return len(data)

    counter = Counter()
    with zipfile.ZipFile(counter, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(folder).as_posix())
    return counter.n


def synthesized_assembly() -> Path:
    """NOTICEBOT_ASSEMBLY (the release build's fresh cdk.out), else a synth of the app with
    the real bundles into a temporary folder."""
    given = os.environ.get("NOTICEBOT_ASSEMBLY")
    if given:
        return ROOT / given
    bundles = ROOT / "build" / "lambda"
    missing = [f for f in FUNCTIONS if not (bundles / f / ".bundle.json").is_file()]
    if missing:
        pytest.skip(f"Lambda bundles not built ({', '.join(missing)}): make bundles")
    outdir = tempfile.mkdtemp(prefix="noticebot-assembly-")
    import aws_cdk as cdk

    import app as app_module

    context = {**cdk_json_context(), ASSETS_CONTEXT_KEY: "build/lambda", "noticebot:nag": "false"}
    app = cdk.App(context=context, outdir=outdir)
    app_module.build(app)
    app.synth()
    folder = Path(outdir)
    # At most one asset per distinct bundle (api, chat and transcription share one) and the
    # training source; nothing per stage: dev and prod reference the same assets.
    assets = [p for p in folder.iterdir() if p.name.startswith("asset.")]
    distinct = {json.loads((bundles / f / ".bundle.json").read_text())["content_key"]
                for f in FUNCTIONS}
    assert len(assets) <= len(distinct) + 1
    return folder


def test_the_zipped_cloud_assembly_fits_cloudformation_actions_input_limit():
    folder = synthesized_assembly()
    size = zipped_size(folder)
    print(f"zipped cloud assembly: {size / 10**6:.0f} MB "
          f"(budget {ARTIFACT_BUDGET / 10**6:.0f} MB, limit {CFN_ACTION_INPUT_LIMIT / 10**6:.0f})")
    assert size < ARTIFACT_BUDGET < CFN_ACTION_INPUT_LIMIT, (
        f"the cloud assembly zips to {size / 10**6:.0f} MB; CodePipeline refuses more than "
        "256 MB as a CloudFormation action's input (cdk/README.md: pipeline artifacts)")
