"""The notify Lambda: SQS records carrying notice events (``domain.notifications.NoticeEvent``,
sent by the API function when a notice is posted or newly pinned), pushed to the members'
devices through Expo (``services.notifications``); and the receipt checks this function
queues for itself, which forget the devices Expo's receipts say are gone.

BatchProcessor reports failures per record (partial batch response): an event whose push
service was unavailable (network, Expo's 429 / 5xx, the token secret unreadable) is retried
alone after the queue's visibility timeout and dead-lettered after the queue's
maxReceiveCount. A body that is not a notice event never will be one: it is logged and
dropped rather than retried into the dead-letter queue.
"""

from __future__ import annotations

import logging

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from noticebot.domain.notifications import ReceiptCheck, notify_message
from noticebot.handlers.lambda_container import lambda_container
from noticebot.handlers.lambda_logging import add_metric, lambda_entry
from noticebot.handlers.sqs_batch import count_failures, process_sqs_batch

logger = logging.getLogger(__name__)


def notify_record(record: SQSRecord, container) -> None:
    try:
        message = notify_message(record.body)
    except ValueError:
        logger.error("dropped message %s: not a notice event", record.message_id)
        return
    if isinstance(message, ReceiptCheck):
        removed = container.notifications.check_receipts(message)
        if removed:
            add_metric("PushDevicesRemoved", removed)
        return
    delivery = container.notifications.deliver(message)
    if delivery.sent:
        add_metric("PushesSent", delivery.sent)
    if delivery.removed_devices:
        add_metric("PushDevicesRemoved", delivery.removed_devices)


def handle(event: dict, container, context=None) -> dict:
    return process_sqs_batch(event, lambda record: notify_record(record, container), context)


@lambda_entry()
def handler(event: dict, context) -> dict:
    return count_failures(handle(event, lambda_container(), context), "NoticeEventsFailed")
