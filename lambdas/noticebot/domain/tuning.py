"""Domain records of per-workspace fine-tuning: jobs, model versions, and the activation rule.

Plain dataclasses, no I/O. ``to_dict`` / ``from_dict`` give both metadata stores (SQLite and
DynamoDB) one JSON-safe shape to persist, so a field added here needs no store migration.
"""

from __future__ import annotations

import enum
import math
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any

from noticebot.domain.models import utcnow


class JobStatus(str, enum.Enum):
    QUEUED = "queued"  # dataset written, training not started yet
    RUNNING = "running"  # the training job runs (SageMaker or the local subprocess)
    DEPLOYING = "deploying"  # training finished: registering and deploying the adapter
    COMPLETED = "completed"  # a model version exists (active or not, see its reason)
    FAILED = "failed"
    STOPPED = "stopped"


# A job in one of these holds its workspace's single training slot.
ACTIVE_JOB_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.DEPLOYING)
FINISHED_JOB_STATUSES = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.STOPPED)


class ModelStatus(str, enum.Enum):
    AVAILABLE = "available"  # registered and deployed: can be activated
    FAILED = "failed"  # registration or deployment failed (see reason)


BASE_MODEL_ID = "base"  # POST /api/models/base/activate rolls a workspace back to the base model

# The largest LoRA rank a workspace adapter may have: the serving container reserves adapter
# memory for this rank (LMI's OPTION_MAX_LORA_RANK, cdk/constructs/models.py) and refuses to
# load a larger one, so training accepts no larger ``lora_r`` (the API's range and
# sagemaker/training/hyperparameters.py, which cannot import this package, state the same
# number; tests/unit/training/test_lora_rank_contract.py holds the three together). One of
# vLLM's supported maximum ranks (8, 16, 32, 64, 128, 256, ...).
MAX_LORA_RANK = 64


def _ts(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def numeric_metrics(metrics: dict | None) -> dict[str, float]:
    """Only finite numbers: what clients chart and what DynamoDB (no NaN) can store."""
    out: dict[str, float] = {}
    for key, value in (metrics or {}).items():
        if isinstance(value, bool):
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number):
            out[str(key)] = int(number) if isinstance(value, int) else number
    return out


class _Record:
    _times: tuple[str, ...] = ()
    _enums: dict[str, type] = {}

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)  # type: ignore[call-overload]
        for name in self._times:
            out[name] = _ts(out[name])
        for name in self._enums:
            out[name] = out[name].value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]):
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        values = {k: v for k, v in data.items() if k in known}  # a newer writer's extra fields
        for name in cls._times:
            if name in values:
                values[name] = _dt(values[name])
        for name, kind in cls._enums.items():
            if name in values:
                values[name] = kind(values[name])
        return cls(**values)


@dataclass
class FineTuneJob(_Record):
    workspace_id: str
    job_id: str
    created_by: str
    hyperparameters: dict = field(default_factory=dict)
    dataset: dict = field(default_factory=dict)  # counts reported by the dataset builder
    dataset_prefix: str = ""  # blob prefix holding train/ and validation/
    status: JobStatus = JobStatus.QUEUED
    stage: str = "queued"  # finer than status: "Downloading", "Training", "deploying", ...
    progress: float | None = None  # 0..1 where the launcher can tell
    training_job_name: str = ""  # the launcher's name for it (SageMaker TrainingJobName)
    metrics: dict = field(default_factory=dict)
    error: str | None = None
    model_id: str | None = None  # the model version this job produced
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    finished_at: datetime | None = None

    _times = ("created_at", "updated_at", "finished_at")
    _enums = {"status": JobStatus}

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_JOB_STATUSES


@dataclass
class ModelVersion(_Record):
    workspace_id: str
    model_id: str
    job_id: str
    name: str
    base_model: str = ""
    adapter_name: str = ""  # what ChatModel.generate(adapter=...) targets (inference component)
    artifact_uri: str = ""  # the adapter: s3://.../model.tar.gz, or a local folder
    package_arn: str | None = None  # SageMaker model package (locally: the registry folder)
    status: ModelStatus = ModelStatus.AVAILABLE
    metrics: dict = field(default_factory=dict)
    reason: str = ""  # why it was (not) activated, or why it failed
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)

    _times = ("created_at", "updated_at")
    _enums = {"status": ModelStatus}


@dataclass(frozen=True)
class TrainingState:
    """What a launcher (or its completion event) says about one training run."""

    status: str  # "InProgress" | "Completed" | "Failed" | "Stopped" (SageMaker's words)
    stage: str = ""  # SageMaker's SecondaryStatus, or the local runner's phase
    progress: float | None = None
    metrics: dict = field(default_factory=dict)
    artifact_uri: str = ""
    failure_reason: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("Completed", "Failed", "Stopped")


@dataclass(frozen=True)
class TrainingOutcome:
    """A training job's completion event, parsed: which job, and how it ended."""

    workspace_id: str
    job_id: str
    training_job_name: str
    state: TrainingState


def _losses(metrics: dict) -> tuple[float, float] | None:
    """(the version's validation loss, the base model's), or None when either is missing."""
    eval_loss, base = metrics.get("eval_loss"), metrics.get("base_eval_loss")
    if isinstance(eval_loss, (int, float)) and isinstance(base, (int, float)):
        return eval_loss, base
    return None


def loss_comparison(metrics: dict) -> str:
    """The version's validation loss against the base model's, in words."""
    losses = _losses(metrics)
    if losses is None:
        return "training reported no validation loss to compare with the base model's"
    eval_loss, base = losses
    verb = "beat" if eval_loss < base else "did not beat"
    return (f"validation loss {eval_loss:.4f} {verb} the base model's {base:.4f} on the same "
            "split")


def activation_decision(metrics: dict) -> tuple[bool, str]:
    """The rule: a fine-tune is activated only if its validation loss beats the base
    model's on the same validation split. Returns (activate, reason shown to people). The
    reason says what happened when the version arrived, so it stays true after a newer
    version takes over or an editor switches models."""
    losses = _losses(metrics)
    activate = losses is not None and losses[0] < losses[1]
    outcome = "activated on arrival" if activate else "not activated on arrival"
    return activate, f"{loss_comparison(metrics)} ({outcome})"
    return False, (f"kept inactive: validation loss {eval_loss:.4f} did not beat the base "
                   f"model's {base:.4f} on the same split")
