"""The ingest Lambda: SQS records carrying upload events.

On AWS an upload reaches the queue as an EventBridge "Object Created" event (the stage's rule
selects upload keys, tenants/*/raw/*, with a wildcard S3's own notifications cannot express);
locally the blob folder emits S3 notification records (``Records[].s3.object.key``), which
are read too. EventBridge carries the key as it is; S3 notifications URL-encode it.

BatchProcessor reports failures per record (partial batch response), so one bad
message is retried alone and lands in the dead-letter queue after its retries. Each record's
message id and ApproximateReceiveCount go to the ingest service: the id holds the document's
lease, the count tells the queue's last delivery (NOTICEBOT_INGEST_MAX_RECEIVES, the
queue's maxReceiveCount), on which a failure fails the document instead of leaving it
processing.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from noticebot.handlers.lambda_container import lambda_container
from noticebot.handlers.lambda_logging import add_metric, lambda_entry
from noticebot.handlers.sqs_batch import count_failures, process_sqs_batch
from noticebot.services.ingest import Delivery

logger = logging.getLogger(__name__)


EVENTBRIDGE_SOURCE = "aws.s3"
EVENTBRIDGE_DETAIL_TYPE = "Object Created"


def object_keys(event: dict) -> list[str]:
    """Keys of created objects: an EventBridge "Object Created" event's key, or the keys of S3
    notification ObjectCreated records (URL-encoded by S3). The s3:TestEvent S3 sends when a
    notification is configured has no Records and yields none."""
    if event.get("source") == EVENTBRIDGE_SOURCE:
        if event.get("detail-type") != EVENTBRIDGE_DETAIL_TYPE:
            return []
        return [str(((event.get("detail") or {}).get("object") or {})["key"])]
    keys = []
    for record in event.get("Records") or []:
        if not str(record.get("eventName", "")).startswith("ObjectCreated:"):
            continue
        keys.append(unquote_plus(record["s3"]["object"]["key"]))
    return keys


def ingest_record(record: SQSRecord, container) -> None:
    body = json.loads(record.body)
    if body.get("Event") == "s3:TestEvent":
        return
    delivery = Delivery(message_id=record.message_id,
                        receive_count=int(record.attributes.get("ApproximateReceiveCount") or 1))
    for key in object_keys(body):
        container.ingest.ingest_object(key, delivery)
        add_metric("UploadsIngested")


def handle(event: dict, container, context=None) -> dict:
    return process_sqs_batch(event, lambda record: ingest_record(record, container), context)


@lambda_entry()
def handler(event: dict, context) -> dict:
    return count_failures(handle(event, lambda_container(), context), "IngestRecordsFailed")
