"""The DynamoDB MetadataStore's fine-tuning items, in the same single table and workspace
partition as everything else (``pk`` = ``WS#{workspace}``):

| item                 | sk                  | notes                                          |
|----------------------|---------------------|------------------------------------------------|
| fine-tune job        | ``FTJOB#{job_id}``  | ``status`` attribute for conditional updates   |
| training slot        | ``FTSLOT``          | ``job_id`` of the workspace's one running job  |
| model version        | ``MODEL#{model_id}``|                                                |
| active model pointer | ``ACTIVEMODEL``     | ``model_id`` absent = the base model           |

Records are a JSON string (``record``), as document metadata is: DynamoDB rejects floats,
and losses are floats. Mixed into ``DynamoDbMetadataStore`` (needs its ``client``, ``table``,
``_encode``/``_values``/``_get``/``_prefix``/``_is_condition_failure``).

The slot is one conditional PutItem (``attribute_not_exists``): two editors pressing
"fine-tune" at once get one job and one 409, whichever Lambda runs first.
"""

from __future__ import annotations

import json

from noticebot.adapters.aws import dynamodb_items as items
from noticebot.domain.models import utcnow
from noticebot.domain.tuning import FineTuneJob, JobStatus, ModelVersion

SLOT_SK = "FTSLOT"
ACTIVE_SK = "ACTIVEMODEL"


def job_sk(job_id: str) -> str:
    return f"FTJOB#{job_id}"


def model_sk(model_id: str) -> str:
    return f"MODEL#{model_id}"


def job_item(job: FineTuneJob) -> dict:
    return {"pk": items.ws_key(job.workspace_id), "sk": job_sk(job.job_id), "type": "finetune_job",
            "status": job.status.value, "created_at": items.ts(job.created_at),
            "record": json.dumps(job.to_dict(), ensure_ascii=False)}


def model_item(version: ModelVersion) -> dict:
    return {"pk": items.ws_key(version.workspace_id), "sk": model_sk(version.model_id),
            "type": "model_version", "created_at": items.ts(version.created_at),
            "record": json.dumps(version.to_dict(), ensure_ascii=False)}


class DynamoDbTuningMixin:
    def _key(self, workspace_id: str, sk: str) -> dict:
        return self._encode({"pk": items.ws_key(workspace_id), "sk": sk})

    # ------------------------------------------------------------ training slot
    def claim_tuning_slot(self, workspace_id: str, job_id: str, _retry: bool = True) -> str | None:
        try:
            self.client.put_item(
                TableName=self.table, ConditionExpression="attribute_not_exists(pk)",
                Item=self._encode({"pk": items.ws_key(workspace_id), "sk": SLOT_SK,
                                   "type": "tuning_slot", "job_id": job_id,
                                   "claimed_at": items.ts(utcnow())}))
            return None
        except Exception as exc:
            if not self._is_condition_failure(exc):
                raise
        holder = self._get(items.ws_key(workspace_id), SLOT_SK)
        if holder is None and _retry:  # released in between
            return self.claim_tuning_slot(workspace_id, job_id, _retry=False)
        return holder["job_id"] if holder else job_id

    def release_tuning_slot(self, workspace_id: str, job_id: str) -> bool:
        try:
            self.client.delete_item(
                TableName=self.table, Key=self._key(workspace_id, SLOT_SK),
                ConditionExpression="job_id = :job",
                ExpressionAttributeValues=self._values({":job": job_id}))
            return True
        except Exception as exc:
            if self._is_condition_failure(exc):
                return False
            raise

    # --------------------------------------------------------------------- jobs
    def put_job(self, job: FineTuneJob) -> None:
        self.client.put_item(TableName=self.table, Item=self._encode(job_item(job)))

    def update_job(self, job: FineTuneJob, *, allowed_from: tuple[JobStatus, ...]) -> bool:
        if not allowed_from:
            return False
        values = {f":s{n}": JobStatus(s).value for n, s in enumerate(allowed_from)}
        try:
            self.client.put_item(
                TableName=self.table, Item=self._encode(job_item(job)),
                ConditionExpression=f"attribute_exists(pk) AND #status IN ({', '.join(values)})",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=self._values(values))
            return True
        except Exception as exc:
            if self._is_condition_failure(exc):
                return False
            raise

    def get_job(self, workspace_id: str, job_id: str) -> FineTuneJob | None:
        item = self._get(items.ws_key(workspace_id), job_sk(job_id))
        return FineTuneJob.from_dict(json.loads(item["record"])) if item else None

    def list_jobs(self, workspace_id: str) -> list[FineTuneJob]:
        jobs = [FineTuneJob.from_dict(json.loads(i["record"]))
                for i in self._prefix(workspace_id, "FTJOB#")]
        jobs.sort(key=lambda j: j.job_id)
        jobs.sort(key=lambda j: j.created_at, reverse=True)
        return jobs

    # ------------------------------------------------------------------- models
    def put_model(self, version: ModelVersion) -> None:
        self.client.put_item(TableName=self.table, Item=self._encode(model_item(version)))

    def get_model(self, workspace_id: str, model_id: str) -> ModelVersion | None:
        item = self._get(items.ws_key(workspace_id), model_sk(model_id))
        return ModelVersion.from_dict(json.loads(item["record"])) if item else None

    def list_models(self, workspace_id: str) -> list[ModelVersion]:
        models = [ModelVersion.from_dict(json.loads(i["record"]))
                  for i in self._prefix(workspace_id, "MODEL#")]
        models.sort(key=lambda m: m.model_id)
        models.sort(key=lambda m: m.created_at, reverse=True)
        return models

    def get_active_model(self, workspace_id: str) -> str | None:
        item = self._get(items.ws_key(workspace_id), ACTIVE_SK)
        return (item or {}).get("model_id") or None

    def set_active_model(self, workspace_id: str, model_id: str | None) -> None:
        item = {"pk": items.ws_key(workspace_id), "sk": ACTIVE_SK, "type": "active_model",
                "updated_at": items.ts(utcnow())}
        if model_id:
            item["model_id"] = model_id
        self.client.put_item(TableName=self.table, Item=self._encode(item))
