"""The event JSON AWS delivers, built locally so the same handlers receive it."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timezone
from urllib.parse import quote_plus

LOCAL_BUCKET = "noticebot-local"


def s3_object_created(key: str, size: int, bucket: str = LOCAL_BUCKET) -> dict:
    """An S3 ObjectCreated:Put notification (event version 2.1), key URL-encoded as S3 does."""
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "local",
                "eventTime": now,
                "eventName": "ObjectCreated:Put",
                "userIdentity": {"principalId": "local"},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {"x-amz-request-id": uuid.uuid4().hex[:16].upper()},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "noticebot-uploads",
                    "bucket": {
                        "name": bucket,
                        "ownerIdentity": {"principalId": "local"},
                        "arn": f"arn:aws:s3:::{bucket}",
                    },
                    "object": {
                        "key": quote_plus(key, safe="/"),
                        "size": size,
                        "eTag": hashlib.md5(key.encode(), usedforsecurity=False).hexdigest(),
                        "sequencer": uuid.uuid4().hex[:16].upper(),
                    },
                },
            }
        ]
    }


def sqs_record(body: str, *, message_id: str, receipt_handle: str, receive_count: int,
               sent_at: float, first_received_at: float,
               queue: str = "noticebot-ingest") -> dict:
    """One record of an SQS -> Lambda event, attributes as SQS reports them (times in epoch
    milliseconds, the receive count including this delivery)."""
    return {
        "messageId": message_id,
        "receiptHandle": receipt_handle,
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": str(int(sent_at * 1000)),
            "SenderId": "local",
            "ApproximateFirstReceiveTimestamp": str(int(first_received_at * 1000)),
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:local:000000000000:{queue}",
        "awsRegion": "local",
    }


def _epoch_ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def sagemaker_training_state_change(job_name: str, status: str, *, tags: dict[str, str],
                                    output_path: str, artifact_uri: str = "",
                                    metrics: dict | None = None,
                                    failure_reason: str | None = None,
                                    secondary_status: str | None = None,
                                    started: datetime | None = None,
                                    region: str = "local", account: str = "000000000000") -> dict:
    """An EventBridge "SageMaker Training Job State Change" event (the detail is the job's
    DescribeTrainingJob shape, times in epoch milliseconds, tags as a map), as the local
    training launcher sends it to the deploy handler when train.py exits."""
    now = datetime.now(timezone.utc)
    arn = f"arn:aws:sagemaker:{region}:{account}:training-job/{job_name}"
    detail: dict = {
        "TrainingJobName": job_name,
        "TrainingJobArn": arn,
        "TrainingJobStatus": status,
        "SecondaryStatus": secondary_status or status,
        "OutputDataConfig": {"KmsKeyId": "", "S3OutputPath": output_path},
        "CreationTime": _epoch_ms(started or now),
        "TrainingStartTime": _epoch_ms(started or now),
        "TrainingEndTime": _epoch_ms(now),
        "LastModifiedTime": _epoch_ms(now),
        "Tags": dict(tags),
    }
    if artifact_uri:
        detail["ModelArtifacts"] = {"S3ModelArtifacts": artifact_uri}
    if metrics:
        detail["FinalMetricDataList"] = [
            {"MetricName": k, "Value": float(v), "Timestamp": _epoch_ms(now)}
            for k, v in metrics.items() if isinstance(v, (int, float))]
    if failure_reason:
        detail["FailureReason"] = failure_reason
    return {"version": "0", "id": str(uuid.uuid4()),
            "detail-type": "SageMaker Training Job State Change", "source": "aws.sagemaker",
            "account": account, "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "region": region,
            "resources": [arn], "detail": detail}
