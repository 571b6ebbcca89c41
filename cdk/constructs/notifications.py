"""Push notifications: the notify queue (+ dead-letter queue), the Expo access token's secret and
the notify Lambda that turns notice events into pushes through Expo's push API.

    API function --SendMessage--> notify queue --(batches of 10)--> notify function --> Expo
                                       | after 5 receives                  | GetSecretValue
                                       v                                   v
                                  dead letters (alarm)            the Expo access token

Why a queue (noticebot.adapters.aws.sqs_notice_events): one consumer, retries while Expo is
down, a dead-letter queue, batching, and a cap on the function's concurrency (Expo rate-limits a
project's sends). The function reports failed records one by one (BatchProcessor), so only
those are retried.

The token: a Secrets Manager secret this stack creates with an empty `access_token` (no value
ever lives in code or in the template), encrypted with the stage's data key. An empty token
sends no Authorization header, which an Expo project without enhanced push security accepts;
once the project turns it on, the operator stores the token outside CDK:

    aws secretsmanager put-secret-value --secret-id noticebot-<stage>/expo-access-token \\
        --secret-string '{"access_token": "<token from expo.dev>"}'

A stack update never overwrites that value (CloudFormation rewrites the secret only when the
template's initial value changes). The function reads it on its first push and keeps it for
the execution environment's life, so a new token reaches environments started afterwards.

Egress: the functions run outside a VPC (cdk/constructs/search.py), so the notify function
reaches Expo over Lambda's own internet access; no NAT gateway is involved.
"""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct
from noticebot.environment import EnvVar
from noticebot.functions import NOTIFY

from cdk.config import StageConfig
from cdk.constructs.function import ServiceFunction
from cdk.constructs.event_queue import event_queue
from cdk.nag import acknowledge

MAX_RECEIVE_COUNT = 5  # deliveries of one event before it moves to the dead-letter queue
BATCH_SIZE = 10  # events per invocation (each is one request to Expo, up to 100 devices)
# Expo limits how fast a project sends (per second, per project): two concurrent batches keep
# a burst of posts well under it, and SQS's event source refuses fewer than 2.
MAX_CONCURRENCY = 2
TOKEN_KEY = "access_token"  # the JSON key noticebot.adapters.aws.expo_push_notifier reads


class Notifications(Construct):
    """Exposes `queue`, `dead_letter_queue`, `token_secret` and `token_secret_name`,
    `function` (a ServiceFunction), and `grant_publish`."""

    def __init__(self, scope: Construct, id: str, *, config: StageConfig, key: kms.IKey,
                 code: lambda_.Code, environment: dict[str, str]) -> None:
        super().__init__(scope, id)
        fn_cfg = config.functions
        removal = cdk.RemovalPolicy.RETAIN if config.retain_data else cdk.RemovalPolicy.DESTROY

        # A push about a notice days old is noise: what is still queued after a day is not
        # worth sending (and a stuck backlog pages through the dead-letter alarm first).
        self.queue, self.dead_letter_queue = event_queue(
            self, "Events", function_timeout_s=fn_cfg.notify_timeout_s, retention_days=1,
            max_receive_count=MAX_RECEIVE_COUNT)

        self.token_secret_name = f"{config.prefix}/expo-access-token"
        self.token_secret = secretsmanager.Secret(
            self, "ExpoToken", secret_name=self.token_secret_name,
            description=(f"{config.prefix}: the Expo access token the notify function sends "
                         f"pushes with. Created with an empty {TOKEN_KEY}; the value is set "
                         f'outside CDK (put-secret-value {{"{TOKEN_KEY}": "..."}}) once the Expo '
                         "project enables enhanced push security. Empty: pushes go without a "
                         "token."),
            encryption_key=key,
            # An empty placeholder, not a value: the operator's token replaces it.
            secret_string_value=cdk.SecretValue.unsafe_plain_text(json.dumps({TOKEN_KEY: ""})),
            removal_policy=removal)
        acknowledge(self.token_secret, "AwsSolutions-SMG4",
                    "The Expo access token is issued and revoked in Expo's dashboard, not by an "
                    "API a rotation function could call; the operator replaces the value "
                    "(put-secret-value) when the token is rotated there.")

        self.function = ServiceFunction(
            self, "Notify", config=config, spec=NOTIFY, code=code,
            memory_mb=fn_cfg.notify_memory_mb, timeout_s=fn_cfg.notify_timeout_s,
            environment={**environment,
                         EnvVar.PUSH_TOKEN_SECRET: self.token_secret.secret_arn,
                         EnvVar.NOTIFY_QUEUE_URL: self.queue.queue_url})
        # The function queues its own receipt checks (delayed messages) on the queue it reads.
        self.grant_publish(self.function.role)
        self.function.function.add_event_source(sources.SqsEventSource(
            self.queue, batch_size=BATCH_SIZE, max_concurrency=MAX_CONCURRENCY,
            # BatchProcessor reports failed records; only those are retried (and dead-lettered).
            report_batch_item_failures=True))

        # The token: read only, this secret only; its key only through Secrets Manager.
        role = self.function.role
        role.add_to_policy(iam.PolicyStatement(
            sid="ReadExpoToken", actions=["secretsmanager:GetSecretValue"],
            resources=[self.token_secret.secret_arn]))
        role.add_to_policy(iam.PolicyStatement(
            sid="DecryptExpoToken", actions=["kms:Decrypt"], resources=[key.key_arn],
            conditions={"StringEquals": {
                "kms:ViaService": f"secretsmanager.{cdk.Stack.of(self).region}.amazonaws.com"}}))

    def grant_publish(self, grantee: iam.IGrantable) -> None:
        """Send notice events to the notify queue (SQS-managed encryption: no key grant)."""
        grantee.grant_principal.add_to_principal_policy(iam.PolicyStatement(
            sid="PublishNoticeEvents", actions=["sqs:SendMessage"],
            resources=[self.queue.queue_arn]))
