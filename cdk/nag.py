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
# Context key that turns acknowledgements off (tests/cdk: every acknowledgement must match a
# finding that appears without it, so none goes stale).
ACKS_OFF_CONTEXT_KEY = "noticebot:nag-acknowledgements"


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    if len(reason) < MIN_REASON:
        raise ValueError(f"acknowledgement of {rule} needs a specific reason, got {reason!r}")
    _REGISTRY.setdefault(scope.node.path, []).append((rule, reason))
    if str(scope.node.try_get_context(ACKS_OFF_CONTEXT_KEY)).lower() == "off":
        return
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))


# construct path -> [(rule, reason)], for reports and the staleness test.
_REGISTRY: dict[str, list[tuple[str, str]]] = {}


def registered(prefix: str = "") -> list[tuple[str, str, str]]:
    """(construct path, rule, reason) of every acknowledgement made in this process whose path
    starts with prefix."""
    return [(path, rule, reason) for path, items in sorted(_REGISTRY.items())
            if path.startswith(prefix) for rule, reason in items]


def add_checks(app: cdk.App) -> None:
    from cdk_nag import AwsSolutionsChecks

    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def _nag_text(value) -> str:
    """A resolved CloudFormation value written the way cdk-nag names it in finding ids."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        (fn, arg), = value.items()
        if fn == "Ref":
            return f"<{arg}>"
        if fn == "Fn::GetAtt":
            return f"<{arg[0]}.{arg[1]}>" if isinstance(arg, list) else f"<{arg}>"
        if fn == "Fn::Join":
            sep, parts = arg
            return sep.join(_nag_text(p) for p in parts)
    raise ValueError(f"cannot name {value!r} as a cdk-nag finding")


def acknowledge_wildcard(scope: IConstruct, resource: str, reason: str) -> None:
    """Acknowledges AwsSolutions-IAM5 for one wildcard resource of a policy under `scope`
    (e.g. the role whose default policy holds it). `resource` is the ARN as passed to the
    PolicyStatement, tokens included; the finding id is derived from it, so it cannot drift."""
    text = _nag_text(cdk.Stack.of(scope).resolve(resource))
    acknowledge(scope, f"AwsSolutions-IAM5[Resource::{text}]", reason)
