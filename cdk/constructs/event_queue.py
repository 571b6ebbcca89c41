"""An SQS queue that feeds a function, with its dead-letter queue: how every event queue of
the app is made (SQS-managed encryption, TLS only, dead letters kept 14 days)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_sqs as sqs
from constructs import Construct

# AWS's guidance for SQS event sources: visibility timeout >= 6x the function timeout, so a
# message is not redelivered while a retried batch is still running.
VISIBILITY_FACTOR = 6


def event_queue(scope: Construct, id: str, *, function_timeout_s: int, retention_days: int,
                max_receive_count: int) -> tuple[sqs.Queue, sqs.Queue]:
    """(queue, dead-letter queue); the dead-letter queue's id is ``DeadLetters`` in ``scope``."""
    dead_letters = sqs.Queue(
        scope, "DeadLetters", retention_period=cdk.Duration.days(14),
        encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True)
    queue = sqs.Queue(
        scope, id,
        visibility_timeout=cdk.Duration.seconds(function_timeout_s * VISIBILITY_FACTOR),
        retention_period=cdk.Duration.days(retention_days),
        encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
        dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters,
                                              max_receive_count=max_receive_count))
    return queue, dead_letters
