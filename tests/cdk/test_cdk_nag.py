"""cdk-nag AwsSolutions: zero unacknowledged findings, and no acknowledgement without a finding.

The whole app (pipeline + dev + prod stages) is synthesized with the checks registered exactly as
app.py registers them for `cdk synth`. A second synth with the acknowledgements switched off
shows what each one silences: an acknowledgement that no longer matches a finding is stale and
fails here, so the list in the code stays the list of real exceptions.
"""

from __future__ import annotations

import pytest
from cdk_testlib import make_app, synthesize

from cdk.nag import ACKS_OFF_CONTEXT_KEY, MIN_REASON, registered


def test_zero_unacknowledged_findings(synth):
    assert synth.violations == [], "\n".join(
        f"{v['rule']} ({v['severity']}) at {v['path']}" for v in synth.violations)
    assert synth.assembly is not None, synth.error


@pytest.fixture(scope="module")
def unacknowledged():
    """The findings with every acknowledgement switched off."""
    result = synthesize(make_app(**{ACKS_OFF_CONTEXT_KEY: "off"}))
    assert result.violations, "with acknowledgements off there must be findings"
    return result.violations


def test_every_acknowledgement_matches_a_real_finding(synth, unacknowledged):
    acks = [a for a in registered("noticebot-pipeline/")]
    assert acks
    stale = []
    for path, rule, _reason in acks:
        hits = [v for v in unacknowledged
                if v["rule"] == rule and (v["path"] == path or v["path"].startswith(path + "/"))]
        if not hits:
            stale.append(f"{rule} at {path}")
    assert not stale, "acknowledgements without a finding:\n" + "\n".join(sorted(set(stale)))


def test_every_finding_is_covered_in_every_stage(unacknowledged):
    stages = {v["path"].split("/")[1] for v in unacknowledged}
    assert {"dev", "prod", "Pipeline"} <= stages  # the checks reach the nested stages too


def test_acknowledgements_carry_specific_reasons(synth):
    for path, rule, reason in registered("noticebot-pipeline/"):
        assert len(reason) >= MIN_REASON, (path, rule)
        assert rule.startswith("AwsSolutions-"), rule
