"""Starting and watching a workspace's fine-tune (LoRA on the base model).

``start``: editors only; hyperparameters checked against the ranges train.py accepts (422);
one running job per workspace (409, through the store's atomic training slot); the dataset
built from the workspace's data (422 when there is too little to learn from) and written to
``tenants/{ws}/datasets/{job}/``; then the launcher starts train.py. Completion arrives as an
event and is handled by ``ModelService.complete_training`` (services/models.py).
"""

from __future__ import annotations

import logging
import math
import uuid
from dataclasses import replace

from noticebot.domain.errors import Conflict, ModelUnavailable, NotFound, Unprocessable
from noticebot.domain.keys import dataset_key, dataset_prefix
from noticebot.domain.models import Principal, utcnow
from noticebot.domain.tuning import (
    ACTIVE_JOB_STATUSES,
    MAX_LORA_RANK,
    FineTuneJob,
    JobStatus,
    numeric_metrics,
)
from noticebot.ports import BlobStore, MetadataStore, VectorIndex
from noticebot.ports.training_launcher import CHANNELS, TrainingLauncher
from noticebot.services.documents import require_editor
from noticebot.services.finetune_dataset import DatasetBuilder, DatasetLimits

logger = logging.getLogger(__name__)

# name -> (type, low, high): the request's parameters and the ranges train.py accepts
# (sagemaker/training/hyperparameters.py SCHEMA; tests/unit/finetune/test_contract.py checks
# they agree). The API answers a value outside them with 422 before any job exists. Values not
# given are left to train.py's defaults.
HYPERPARAMETERS: dict[str, tuple[type, float, float]] = {
    "epochs": (int, 1, 20),
    "learning_rate": (float, 1e-6, 1e-2),
    "lora_r": (int, 1, MAX_LORA_RANK),  # the endpoint loads adapters up to this rank
    "lora_alpha": (int, 1, 1024),
    "lora_dropout": (float, 0.0, 0.5),
    "max_seq_length": (int, 64, 8192),
    "per_device_batch_size": (int, 1, 64),
    "gradient_accumulation_steps": (int, 1, 128),
    "max_steps": (int, 1, 100_000),
    "seed": (int, 0, 2**31 - 1),
}


def validate_hyperparameters(parameters: dict | None) -> dict:
    """The request's hyperparameters, typed; Unprocessable (422) naming every bad value.
    Unknown names are refused too: a typo must not silently do nothing."""
    given = {k: v for k, v in (parameters or {}).items() if v is not None}
    problems = [f"unknown parameter '{k}'" for k in given if k not in HYPERPARAMETERS]
    out: dict = {}
    for name, value in given.items():
        if name not in HYPERPARAMETERS:
            continue
        kind, low, high = HYPERPARAMETERS[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append(f"{name} must be a number")
        elif not math.isfinite(float(value)) or (kind is int and float(value) != int(value)):
            problems.append(f"{name} must be a {'whole ' if kind is int else ''}number")
        elif not low <= value <= high:
            problems.append(f"{name} must be between {low:g} and {high:g} (got {value:g})")
        else:
            out[name] = kind(value)
    if problems:
        raise Unprocessable("invalid fine-tune parameters: " + "; ".join(problems))
    return out


class FineTuneService:
    def __init__(self, metadata: MetadataStore, blobs: BlobStore, index: VectorIndex,
                 launcher: TrainingLauncher | None, *, fixed: dict | None = None,
                 limits: DatasetLimits = DatasetLimits()):
        """``fixed``: hyperparameters the deployment sets, not the request
        (``model_name_or_path``, ``chat_template``)."""
        self.metadata = metadata
        self.blobs = blobs
        self.launcher = launcher
        self.fixed = {k: v for k, v in (fixed or {}).items() if v not in (None, "")}
        self.builder = DatasetBuilder(metadata, blobs, index, limits)

    def start(self, principal: Principal, parameters: dict | None) -> FineTuneJob:
        require_editor(principal)
        hyperparameters = {**validate_hyperparameters(parameters), **self.fixed}
        if self.launcher is None:
            raise ModelUnavailable("fine-tuning is not configured for this deployment")
        unready = self.launcher.unready_reason()
        if unready:
            raise ModelUnavailable(unready)
        ws = principal.workspace_id
        job_id = uuid.uuid4().hex
        self._claim_slot(ws, job_id)
        try:
            dataset = self.builder.build(ws)
            if self.builder.too_small(dataset):
                r, lim = dataset.report, self.builder.limits
                raise Unprocessable(
                    f"too little data to fine-tune: {r['qa_pairs']} question/answer pairs and "
                    f"{r['text_passages']} document passages after removing "
                    f"{r['duplicates']} duplicates and {r['empty']} empty ones; at least "
                    f"{lim.min_train + lim.min_validation} are needed. Upload a Q&A table "
                    "(CSV with question and answer columns, or JSONL) or more documents.")
            for channel, rows in zip(CHANNELS, (dataset.train, dataset.validation)):
                self.blobs.put(dataset_key(ws, job_id, channel), dataset.jsonl(rows),
                               "application/jsonl")
            job = FineTuneJob(workspace_id=ws, job_id=job_id, created_by=principal.user_id,
                              hyperparameters=hyperparameters, dataset=dataset.report,
                              dataset_prefix=dataset_prefix(ws, job_id))
            self.metadata.put_job(job)
        except BaseException:
            self.metadata.release_tuning_slot(ws, job_id)
            raise
        return self._launch(job)

    def _claim_slot(self, workspace_id: str, job_id: str) -> None:
        holder = self.metadata.claim_tuning_slot(workspace_id, job_id)
        if holder is None:
            return
        running = self.metadata.get_job(workspace_id, holder)
        if running is not None and running.active:
            raise Conflict(f"fine-tune {holder} is still {running.status.value}; one job runs "
                           "per workspace at a time")
        # The holder finished (or never got a record) without releasing: take over.
        self.metadata.release_tuning_slot(workspace_id, holder)
        if self.metadata.claim_tuning_slot(workspace_id, job_id) is not None:
            raise Conflict("another fine-tune was started for this workspace just now")

    def _launch(self, job: FineTuneJob) -> FineTuneJob:
        try:
            name = self.launcher.launch(job)
        except Exception as exc:
            logger.exception("launching fine-tune %s failed", job.job_id)
            message = getattr(exc, "message", None) or "the training job could not be started"
            self._finish(job, JobStatus.FAILED, message)
            if isinstance(exc, ModelUnavailable):
                raise
            raise ModelUnavailable(f"{message}; try again later") from exc
        current = self.metadata.get_job(job.workspace_id, job.job_id) or job
        if current.status == JobStatus.QUEUED:  # a fast local run may have finished already
            started = replace(current, training_job_name=name, status=JobStatus.RUNNING,
                              stage="starting", updated_at=utcnow())
            if self.metadata.update_job(started, allowed_from=(JobStatus.QUEUED,)):
                return started
        return self.metadata.get_job(job.workspace_id, job.job_id) or job

    def _finish(self, job: FineTuneJob, status: JobStatus, error: str | None) -> None:
        now = utcnow()
        done = replace(job, status=status, stage=status.value, error=error, updated_at=now,
                       finished_at=now)
        self.metadata.update_job(done, allowed_from=ACTIVE_JOB_STATUSES)
        self.metadata.release_tuning_slot(job.workspace_id, job.job_id)

    # ------------------------------------------------------------------ reads
    def get(self, principal: Principal, job_id: str) -> FineTuneJob:
        job = self.metadata.get_job(principal.workspace_id, job_id)
        if job is None:
            raise NotFound(f"fine-tune job {job_id} not found")
        if job.status == JobStatus.RUNNING and self.launcher is not None:
            job = self._refresh(job)
        return job

    def list(self, principal: Principal) -> list[FineTuneJob]:
        return self.metadata.list_jobs(principal.workspace_id)

    def _refresh(self, job: FineTuneJob) -> FineTuneJob:
        """Progress from the launcher (stage, fraction, live metrics). Completion is left to
        the completion event's handler, which registers and deploys the model."""
        try:
            state = self.launcher.status(job)
        except Exception:  # progress is a nicety; the job record is still the answer
            logger.warning("could not read the status of fine-tune %s", job.job_id,
                           exc_info=True)
            return job
        if state.finished and state.status != "Completed":
            # A lost completion event (or a local server restarted mid-run) must not hold the
            # workspace's training slot forever; a success is left to the deploy handler.
            self._finish(job, JobStatus.STOPPED if state.status == "Stopped" else JobStatus.FAILED,
                         state.failure_reason or f"training {state.status.lower()}")
            return self.metadata.get_job(job.workspace_id, job.job_id) or job
        metrics = {**job.metrics, **numeric_metrics(state.metrics)}
        if (state.stage, state.progress, metrics) == (job.stage, job.progress, job.metrics):
            return job
        fresh = replace(job, stage=state.stage or job.stage, progress=state.progress,
                        metrics=metrics, updated_at=utcnow())
        if self.metadata.update_job(fresh, allowed_from=(JobStatus.RUNNING,)):
            return fresh
        return self.metadata.get_job(job.workspace_id, job.job_id) or job
