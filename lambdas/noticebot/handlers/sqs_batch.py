"""An SQS batch through one record handler, with partial failures reported (SQS consumers)."""

from __future__ import annotations

from collections.abc import Callable

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from noticebot.handlers.lambda_logging import add_metric


def process_sqs_batch(event: dict, record_handler: Callable[[SQSRecord], object],
                      context=None) -> dict:
    """``{"batchItemFailures": [...]}`` for the records whose handler raised. A processor per
    batch: it keeps the batch's successes and failures on itself, so two batches handled at
    once (two local stacks in one process) must not share one."""
    processor = BatchProcessor(event_type=EventType.SQS)
    return process_partial_response(event=event, record_handler=record_handler,
                                    processor=processor, context=context)


def count_failures(result: dict, metric: str) -> dict:
    """Emits ``metric`` with the number of failed records, when there are any."""
    failed = len(result.get("batchItemFailures") or [])
    if failed:
        add_metric(metric, failed)
    return result
