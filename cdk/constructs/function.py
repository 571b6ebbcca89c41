"""A Python 3.12 Lambda function with its own role and log group (no managed policies).

What the function is (name, handler, description, environment names) comes from its entry in
the function manifest, noticebot.functions, which the bundler builds its code from.

Each function gets a role that starts empty: it may write only to its own log group, and the
stack adds exactly the grants the function needs. Lambda's default role would attach the
AWSLambdaBasicExecutionRole managed policy (logs on every log group in the account).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct
from noticebot.functions import LAMBDA_TASK_ROOT, LambdaFunction

from cdk.config import StageConfig
from cdk.nag import acknowledge

RUNTIME = lambda_.Runtime.PYTHON_3_12  # the bundles carry cp312 wheels
# Read by the Lambda runtime itself, not by the package: the script it starts instead of its
# own loop (noticebot.functions.LambdaFunction.exec_wrapper).
EXEC_WRAPPER = "AWS_LAMBDA_EXEC_WRAPPER"


class ServiceFunction(Construct):
    """Exposes `spec`, `name`, `function`, `role`, `log_group`."""

    def __init__(self, scope: Construct, id: str, *, config: StageConfig, spec: LambdaFunction,
                 code: lambda_.Code, memory_mb: int, timeout_s: int,
                 environment: dict[str, str], ephemeral_storage_mb: int = 512,
                 star_actions: str = "") -> None:
        super().__init__(scope, id)
        self.spec = spec
        self.name = name = spec.name
        missing = spec.environment - set(environment)
        unexpected = set(environment) - spec.environment - spec.optional_environment
        if missing or unexpected:  # the manifest is the contract; a synth never drifts from it
            problems = ([f"missing {sorted(missing)}"] if missing else []) + (
                [f"not declared {sorted(unexpected)}"] if unexpected else [])
            raise ValueError(f"{name}: environment differs from noticebot.functions: "
                             + "; ".join(problems))
        if spec.exec_wrapper:
            environment = {**environment,
                           EXEC_WRAPPER: f"{LAMBDA_TASK_ROOT}/{spec.exec_wrapper}"}
        removal = cdk.RemovalPolicy.RETAIN if config.retain_data else cdk.RemovalPolicy.DESTROY
        function_name = f"{config.prefix}-{name}"
        self.log_group = logs.LogGroup(
            self, "Logs", log_group_name=f"/aws/lambda/{function_name}",
            retention=retention(config.log_retention_days),
            removal_policy=removal)
        self.role = iam.Role(
            self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{function_name}: runs the {name} function")
        self.role.add_to_policy(iam.PolicyStatement(
            sid="OwnLogGroup", actions=["logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[self.log_group.log_group_arn]))
        self.function = lambda_.Function(
            self, "Function", function_name=function_name, description=spec.description,
            runtime=RUNTIME, architecture=lambda_.Architecture.X86_64, handler=spec.handler,
            code=code, memory_size=memory_mb, timeout=cdk.Duration.seconds(timeout_s),
            ephemeral_storage_size=cdk.Size.mebibytes(ephemeral_storage_mb),
            role=self.role, log_group=self.log_group, environment=environment,
            tracing=lambda_.Tracing.ACTIVE)
        # `star_actions`: other actions of this function that also exist only with Resource '*'.
        acknowledge(self.role, "AwsSolutions-IAM5[Resource::*]",
                    "X-Ray PutTraceSegments/PutTelemetryRecords (active tracing)"
                    + (f" and {star_actions}" if star_actions else "")
                    + " have no resource-level permissions; AWS requires Resource '*' for them.")
        acknowledge(self.function, "AwsSolutions-L1",
                    "Pinned to python3.12 on purpose: the bundles carry CPython 3.12 manylinux wheels "
                    "(scripts/build_lambda_bundles.py); moving to a newer runtime means rebuilding "
                    "and re-testing the bundles, done deliberately, not by a linter.")


_RETENTION = {
    1: "ONE_DAY", 3: "THREE_DAYS", 5: "FIVE_DAYS", 7: "ONE_WEEK", 14: "TWO_WEEKS",
    30: "ONE_MONTH", 60: "TWO_MONTHS", 90: "THREE_MONTHS", 120: "FOUR_MONTHS",
    150: "FIVE_MONTHS", 180: "SIX_MONTHS", 365: "ONE_YEAR", 400: "THIRTEEN_MONTHS",
    545: "EIGHTEEN_MONTHS", 731: "TWO_YEARS", 1096: "THREE_YEARS", 1827: "FIVE_YEARS",
    2192: "SIX_YEARS", 2557: "SEVEN_YEARS", 2922: "EIGHT_YEARS", 3288: "NINE_YEARS",
    3653: "TEN_YEARS",
}


def retention(days: int) -> logs.RetentionDays:
    """CloudWatch Logs retention for a number of days (config validates the value)."""
    return logs.RetentionDays[_RETENTION[days]]
