"""Request and response bodies of the fine-tune and model routes.

Compatible with the mobile app (mobile/app/services/api/types.ts): a job is
``{job_id, status, metrics, error, model_id, created_at, updated_at}`` plus ``stage``,
``progress``, ``dataset``, ``parameters``, ``finished_at``; ``GET /api/models`` is
``{models: [{model_id, name, base_model, status, active, job_id, metrics, created_at}]}`` plus
each version's ``reason`` and the list's ``active_model_id`` / ``base_model``;
``POST /api/models/{id}/activate`` answers the activated version (``base``: the base model).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from noticebot.domain.models import utcnow
from noticebot.domain.tuning import BASE_MODEL_ID, FineTuneJob, ModelVersion, numeric_metrics
from noticebot.handlers.api.schemas import Strict, json_int
from noticebot.services.finetune import HYPERPARAMETERS


def _range(name: str) -> dict:
    # The ranges train.py accepts, from the service's one table, stated in the OpenAPI
    # document; the service enforces them, with one 422 that names every value out of range.
    _, low, high = HYPERPARAMETERS[name]
    return {"json_schema_extra": {"minimum": low, "maximum": high}}


def _int_parameter(name: str):
    return json_int(**_range(name))


def _float_parameter(name: str):
    return Annotated[float, Field(**_range(name))]


class FineTuneParameters(Strict):
    """Values not given are left to train.py's defaults."""

    epochs: _int_parameter("epochs") | None = None
    learning_rate: _float_parameter("learning_rate") | None = None
    lora_r: _int_parameter("lora_r") | None = None
    lora_alpha: _int_parameter("lora_alpha") | None = None
    lora_dropout: _float_parameter("lora_dropout") | None = None
    max_seq_length: _int_parameter("max_seq_length") | None = None
    per_device_batch_size: _int_parameter("per_device_batch_size") | None = None
    gradient_accumulation_steps: _int_parameter("gradient_accumulation_steps") | None = None
    max_steps: _int_parameter("max_steps") | None = None
    seed: _int_parameter("seed") | None = None


class FineTuneIn(Strict):
    parameters: FineTuneParameters = Field(default_factory=FineTuneParameters)


class FineTuneStarted(BaseModel):
    job_id: str
    status: str
    dataset: dict[str, int]


class FineTuneJobOut(BaseModel):
    job_id: str
    status: str  # queued | running | deploying | completed | failed | stopped
    stage: str
    progress: float | None  # 0..1 where known
    metrics: dict[str, float]  # train_loss, eval_loss, base_eval_loss, steps, ...
    error: str | None
    model_id: str | None
    dataset: dict[str, int]  # train / validation / qa_pairs / text_passages / duplicates ...
    parameters: dict
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, job: FineTuneJob) -> "FineTuneJobOut":
        return cls(job_id=job.job_id, status=job.status.value, stage=job.stage,
                   progress=job.progress, metrics=numeric_metrics(job.metrics), error=job.error,
                   model_id=job.model_id, dataset=job.dataset, parameters=job.hyperparameters,
                   created_at=job.created_at, updated_at=job.updated_at,
                   finished_at=job.finished_at)


class FineTuneJobList(BaseModel):
    jobs: list[FineTuneJobOut]


class ModelOut(BaseModel):
    model_id: str
    name: str
    base_model: str
    status: str  # available | failed
    active: bool
    job_id: str
    metrics: dict[str, float]
    reason: str  # why it is (not) active, or why it failed
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, v: ModelVersion, active_id: str | None) -> "ModelOut":
        return cls(model_id=v.model_id, name=v.name, base_model=v.base_model,
                   status=v.status.value, active=v.model_id == active_id, job_id=v.job_id,
                   metrics=numeric_metrics(v.metrics), reason=v.reason, created_at=v.created_at,
                   updated_at=v.updated_at)


class ModelList(BaseModel):
    models: list[ModelOut]
    active_model_id: str | None  # None: the shared base model answers
    base_model: str


class ActivateIn(Strict):
    """The app sends ``{}``; nothing else is accepted."""


def base_model_out(base_model: str) -> ModelOut:
    """What ``POST /api/models/base/activate`` answers: the shared base model, now active."""
    now = utcnow()
    return ModelOut(model_id=BASE_MODEL_ID, name=base_model, base_model=base_model,
                    status="available", active=True, job_id="", metrics={},
                    reason="the shared base model (no fine-tune)", created_at=now, updated_at=now)
