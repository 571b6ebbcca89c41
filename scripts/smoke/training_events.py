"""A finished training job as the deploy function receives it, for the dry run.

moto records a training job as Completed the moment it is created and runs no container. Two
things then stand in for SageMaker:

- ``adapter_artifact``: what train.py leaves in the job's model.tar.gz that the deploy function
  reads (``metrics.json`` with the adapter's and the base model's validation losses), plus the
  adapter's config, written where SageMaker would put the archive;
- ``state_change_event``: the EventBridge "SageMaker Training Job State Change" event, whose
  detail is the job's DescribeTrainingJob with times in epoch milliseconds and the tags as a
  map (the shape of tests/fixtures/events/eventbridge_sagemaker_training_completed.json).
"""

from __future__ import annotations

import io
import json
import tarfile
import uuid
from datetime import datetime, timezone

DETAIL_TYPE = "SageMaker Training Job State Change"
# Losses of a fine-tune that learned something: the adapter beats the base model, so the
# activation rule makes it the workspace's model.
SMOKE_METRICS = {"train_loss": 0.84, "eval_loss": 0.97, "base_eval_loss": 1.62}


def adapter_artifact(metrics: dict = SMOKE_METRICS) -> bytes:
    files = {"metrics.json": json.dumps(metrics).encode(),
             "adapter_config.json": json.dumps({"peft_type": "LORA", "r": 8}).encode()}
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _epoch_ms(value):
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return int(value.timestamp() * 1000)
    if isinstance(value, dict):
        return {k: _epoch_ms(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_epoch_ms(v) for v in value]
    return value


def state_change_event(described: dict, tags: list[dict], *, account: str,
                       region: str) -> dict:
    detail = _epoch_ms({k: v for k, v in described.items() if k != "ResponseMetadata"})
    detail["Tags"] = {t["Key"]: t["Value"] for t in tags}
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": DETAIL_TYPE,
        "source": "aws.sagemaker", "account": account,
        "time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region, "resources": [described["TrainingJobArn"]], "detail": detail,
    }
