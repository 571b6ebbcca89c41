"""cdk-nag (AwsSolutions) wiring and the one helper every acknowledgement goes through.

Every acknowledgement is made next to the construct it concerns, names one finding exactly
(cdk-nag 3 has no prefix matching: `AwsSolutions-IAM5[Resource::...]` per finding), and says
why the finding does not apply. tests/cdk/test_nag.py synthesizes every stage and the pipeline
with the checks on and fails on any unacknowledged finding.
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import IConstruct

MIN_REASON = 40  # characters; "not needed" is not a reason


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    if len(reason) < MIN_REASON:
        raise ValueError(f"acknowledgement of {rule} needs a specific reason, got {reason!r}")
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))


def add_checks(app: cdk.App) -> None:
    from cdk_nag import AwsSolutionsChecks

    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def acknowledgements(root: IConstruct) -> list[tuple[str, str, str]]:
    """(construct path, rule, reason) of every acknowledgement under root, for reports."""
    out = []
    for c in root.node.find_all():
        for entry in c.node.metadata:
            data = entry.data if hasattr(entry, "data") else entry.get("data")
            kind = entry.type if hasattr(entry, "type") else entry.get("type")
            if "ack" not in str(kind).lower():
                continue
            items = data if isinstance(data, list) else [data]
            for item in items:
                if isinstance(item, dict):
                    out.append((c.node.path, str(item.get("id")), str(item.get("reason"))))
                else:
                    out.append((c.node.path, str(kind), str(item)))
    return out
