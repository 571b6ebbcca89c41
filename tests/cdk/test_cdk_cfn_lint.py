"""cfn-lint on every synthesized template (pipeline, dev, prod).

Two findings are tolerated, each only on the one resource type where aws-cdk-lib generates it
(any other occurrence still fails):
  W3005 on AWS::Lambda::Function and AWS::CodePipeline::Pipeline: CDK adds DependsOn on the role
        it also references by GetAtt; redundant, harmless, CDK's code. Our own explicit
        dependencies point at policies, which no GetAtt implies.
  E3703 on AWS::CodePipeline::Pipeline: CDK Pipelines writes the bootstrap roles' ARNs as
        Fn::Join with an empty delimiter where cfn-lint prefers Fn::Sub (style, same value).
"""

from __future__ import annotations

import json

import pytest

cfnlint_api = pytest.importorskip("cfnlint.api", reason="pip install -r requirements-cdk.txt")

TOLERATED = {
    "W3005": {"AWS::Lambda::Function", "AWS::CodePipeline::Pipeline"},
    "E3703": {"AWS::CodePipeline::Pipeline"},
}


@pytest.mark.parametrize("which", ["pipeline", "dev", "prod"])
def test_cfn_lint_is_clean(synth, which):
    template = synth.pipeline_template() if which == "pipeline" else synth.template(which)
    matches = cfnlint_api.lint(json.dumps(template), regions=["us-east-1"])
    problems = []
    for m in matches:
        kind = None
        if len(m.path) > 1 and m.path[0] == "Resources":
            kind = template["Resources"].get(m.path[1], {}).get("Type")
        if kind in TOLERATED.get(m.rule.id, ()):
            continue
        problems.append(f"{m.rule.id} {m.message} at {'/'.join(map(str, m.path))}")
    assert problems == []
