"""A workspace's model versions: listing, activation (roll forward / back), and deployment of
a finished fine-tune (the completion event's handler logic, shared by AWS and local mode).

The activation rule (``domain.tuning.activation_decision``): a new version becomes the
workspace's active model only if its validation loss beats the base model's on the same
split; otherwise it stays available but inactive, with the reason shown. Editors can still
activate any available version by hand, or go back to the base model (``base``).
"""

from __future__ import annotations

import logging
from dataclasses import replace

from noticebot.domain.errors import Conflict, NotFound
from noticebot.domain.models import Principal, utcnow
from noticebot.domain.tuning import (
    ACTIVE_JOB_STATUSES,
    BASE_MODEL_ID,
    FineTuneJob,
    JobStatus,
    ModelStatus,
    ModelVersion,
    TrainingOutcome,
    activation_decision,
    loss_comparison,
    numeric_metrics,
)
from noticebot.ports import MetadataStore
from noticebot.ports.model_registry import ModelRegistry
from noticebot.ports.training_launcher import TrainingLauncher
from noticebot.services.documents import require_editor

logger = logging.getLogger(__name__)

MANUAL_ACTIVATION = "activated by an editor"


def model_id_for(job_id: str) -> str:
    """Deterministic, so a redelivered completion event finds the version it made."""
    return f"ft-{job_id[:16]}"


class ModelService:
    def __init__(self, metadata: MetadataStore, registry: ModelRegistry | None,
                 launcher: TrainingLauncher | None = None, *, base_model: str = ""):
        self.metadata = metadata
        self.registry = registry
        self.launcher = launcher
        self.base_model = base_model

    # ------------------------------------------------------------------ reads
    def list(self, principal: Principal) -> tuple[list[ModelVersion], str | None]:
        ws = principal.workspace_id
        return self.metadata.list_models(ws), self.metadata.get_active_model(ws)

    def get(self, principal: Principal, model_id: str) -> ModelVersion:
        version = self.metadata.get_model(principal.workspace_id, model_id)
        if version is None:
            raise NotFound(f"model {model_id} not found")
        return version

    def active_version(self, workspace_id: str) -> ModelVersion | None:
        """What chat should answer with; None = the base model."""
        model_id = self.metadata.get_active_model(workspace_id)
        if not model_id:
            return None
        version = self.metadata.get_model(workspace_id, model_id)
        return version if version and version.status == ModelStatus.AVAILABLE else None

    def resolve(self, workspace_id: str, requested: str | None) -> ModelVersion | None:
        """A chat request's ``model``: None = the active one, ``base`` = the base model, else
        one of the workspace's available versions. A model the workspace does not have
        (another workspace's included) is not found, like an unknown conversation; one that
        failed cannot answer (409)."""
        if requested is None:
            return self.active_version(workspace_id)
        if requested == BASE_MODEL_ID:
            return None
        version = self.metadata.get_model(workspace_id, requested)
        if version is None:
            raise NotFound(f"model '{requested}' not found")
        if version.status != ModelStatus.AVAILABLE:
            raise Conflict(f"model '{requested}' is {version.status.value}; it cannot answer")
        return version

    # ------------------------------------------------------------- activation
    def activate(self, principal: Principal, model_id: str) -> ModelVersion | None:
        """Makes ``model_id`` the workspace's model (``base``: the base model). Returns the
        version, or None for the base model."""
        require_editor(principal)
        if model_id == BASE_MODEL_ID:
            self.metadata.set_active_model(principal.workspace_id, None)
            return None
        version = self.get(principal, model_id)
        if version.status != ModelStatus.AVAILABLE:
            raise Conflict(f"model {model_id} cannot be activated: {version.reason or 'failed'}")
        self.metadata.set_active_model(principal.workspace_id, model_id)
        logger.info("workspace %s activated model %s", principal.workspace_id, model_id)
        if not activation_decision(version.metrics)[0] and not version.reason.startswith(
                MANUAL_ACTIVATION):
            version = self._record_manual_activation(principal, version)
        return version

    def _record_manual_activation(self, principal: Principal, version: ModelVersion
                                 ) -> ModelVersion:
        """The loss rule kept this version inactive and an editor chose it anyway: say so on
        the version (its reason said "not activated on arrival") and approve its
        registry record, so Studio shows what serves the workspace. The activation stands if
        the registry cannot be updated: chat must not depend on a record."""
        note = (f"{MANUAL_ACTIVATION} ({principal.user_id}), although "
                f"{loss_comparison(version.metrics)}")
        version = replace(version, reason=note[:500], updated_at=utcnow())
        self.metadata.put_model(version)
        if self.registry is not None:
            try:
                self.registry.approve(version, note)
            except Exception:
                logger.warning("could not approve model %s in the registry", version.model_id,
                               exc_info=True)
        return version

    # ------------------------------------------------------------- deployment
    def complete_training(self, outcome: TrainingOutcome) -> dict:
        """Handles a training job's end: failure is recorded; success registers the model
        version, deploys its adapter and activates it by the loss rule. Idempotent: a
        duplicate event finds the job finished (or the version already made)."""
        job = self.metadata.get_job(outcome.workspace_id, outcome.job_id)
        if job is None or (job.training_job_name
                           and job.training_job_name != outcome.training_job_name):
            logger.warning("completion event for unknown job %s/%s (%s)", outcome.workspace_id,
                           outcome.job_id, outcome.training_job_name)
            return {"status": "ignored", "reason": "unknown job"}
        if not job.active:
            return {"status": "duplicate", "job": job.job_id, "job_status": job.status.value}
        state = outcome.state
        if not state.finished:
            return {"status": "ignored", "reason": f"job is {state.status}"}
        if state.status != "Completed":
            status = JobStatus.STOPPED if state.status == "Stopped" else JobStatus.FAILED
            self._finish(job, status, state.failure_reason or f"training {state.status.lower()}",
                         numeric_metrics(state.metrics))
            return {"status": status.value, "job": job.job_id}
        if (not state.artifact_uri or "eval_loss" not in state.metrics) and self.launcher:
            state = self._merged(job, state)
        deploying = replace(job, status=JobStatus.DEPLOYING, stage="deploying", progress=1.0,
                            metrics={**job.metrics, **numeric_metrics(state.metrics)},
                            training_job_name=outcome.training_job_name, updated_at=utcnow())
        if not self.metadata.update_job(deploying, allowed_from=ACTIVE_JOB_STATUSES):
            return {"status": "duplicate", "job": job.job_id}
        try:
            version = self._register_and_deploy(deploying, state.artifact_uri)
        except Exception as exc:
            logger.exception("deploying fine-tune %s failed", job.job_id)
            message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            self._finish(deploying, JobStatus.FAILED, f"deployment failed: {message}"[:500])
            return {"status": "failed", "job": job.job_id, "error": message}
        activate, _ = activation_decision(version.metrics)
        if activate:
            self.metadata.set_active_model(job.workspace_id, version.model_id)
        self._finish(deploying, JobStatus.COMPLETED, None, model_id=version.model_id)
        return {"status": "completed", "job": job.job_id, "model_id": version.model_id,
                "activated": activate, "reason": version.reason}

    def _merged(self, job: FineTuneJob, state):
        try:
            described = self.launcher.status(job)
        except Exception:
            logger.warning("could not describe training job %s", job.training_job_name,
                           exc_info=True)
            return state
        return replace(state, artifact_uri=state.artifact_uri or described.artifact_uri,
                       metrics={**described.metrics, **state.metrics})

    def _register_and_deploy(self, job: FineTuneJob, artifact_uri: str) -> ModelVersion:
        if self.registry is None:
            raise RuntimeError("no model registry is configured")
        if not artifact_uri:
            raise RuntimeError("the training job reported no model artifact")
        model_id = model_id_for(job.job_id)
        version = self.metadata.get_model(job.workspace_id, model_id)
        if version is None:
            number = len(self.metadata.list_models(job.workspace_id)) + 1
            version = ModelVersion(
                workspace_id=job.workspace_id, model_id=model_id, job_id=job.job_id,
                name=f"Fine-tune {number}",
                base_model=job.hyperparameters.get("model_name_or_path") or self.base_model,
                artifact_uri=artifact_uri, metrics=numeric_metrics(job.metrics))
            version.adapter_name = self.registry.adapter_name(version)
        _, version.reason = activation_decision(version.metrics)
        try:
            if not version.package_arn:
                version.package_arn = self.registry.register(version)
                self.metadata.put_model(version)
            version.adapter_name = self.registry.deploy(version)
        except Exception as exc:
            version.status = ModelStatus.FAILED
            version.reason = f"deployment failed: {getattr(exc, 'message', None) or exc}"[:500]
            version.updated_at = utcnow()
            self.metadata.put_model(version)
            raise
        version.status, version.updated_at = ModelStatus.AVAILABLE, utcnow()
        self.metadata.put_model(version)
        return version

    def _finish(self, job: FineTuneJob, status: JobStatus, error: str | None,
                metrics: dict | None = None, model_id: str | None = None) -> None:
        now = utcnow()
        done = replace(job, status=status, stage=status.value, error=error, updated_at=now,
                       finished_at=now, metrics={**job.metrics, **(metrics or {})},
                       model_id=model_id or job.model_id)
        self.metadata.update_job(done, allowed_from=ACTIVE_JOB_STATUSES)
        self.metadata.release_tuning_slot(job.workspace_id, job.job_id)
