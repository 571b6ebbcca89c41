"""TrainingLauncher: runs ``sagemaker/training/train.py`` on a workspace's dataset.

SageMaker ``create_training_job`` in AWS; locally a subprocess with the same environment
(``SM_HPS``, ``SM_CHANNEL_TRAIN``, ``SM_CHANNEL_VALIDATION``, ``SM_MODEL_DIR``) and folders.
Completion is an event, not a return value: EventBridge's "SageMaker Training Job State
Change" in AWS, the subprocess's exit locally; both reach ``handlers.deploy``.

Blob layout (noticebot.domain.keys; the training role may read only datasets and write only
models): ``tenants/{ws}/datasets/{job}/train/train.jsonl``, ``.../validation/validation.jsonl``;
adapters land under ``tenants/{ws}/models/``.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod

from noticebot.domain.tuning import FineTuneJob, TrainingState

CHANNELS = ("train", "validation")
WORKSPACE_TAG = "noticebot:workspace"  # tags on every training job (and its event)
JOB_TAG = "noticebot:job"


def encode_hyperparameters(hyperparameters: dict) -> dict[str, str]:
    """SageMaker's ``HyperParameters`` map (strings only, as hyperparameters.json holds them):
    numbers JSON-encoded, strings as they are. The training toolkit JSON-decodes each value
    into ``SM_HPS``, so train.py sees 3 and 0.0002 again, and plain strings stay strings."""
    return {str(k): v if isinstance(v, str) else json.dumps(v)
            for k, v in hyperparameters.items() if v is not None}


def decode_hyperparameters(encoded: dict[str, str]) -> dict:
    """What the training toolkit puts in ``SM_HPS`` for an encoded map."""
    out = {}
    for key, value in encoded.items():
        try:
            out[key] = json.loads(value)
        except (TypeError, ValueError):
            out[key] = value
    return out


class TrainingLauncher(ABC):
    def unready_reason(self) -> str | None:
        """Why no training job could run here, in words that say what to do; None when one
        can. Asked before a job is created, so a request that cannot succeed is refused up
        front rather than accepted as a job that fails later. A managed service (SageMaker)
        brings its own training environment, so the default is ready."""
        return None

    @abstractmethod
    def launch(self, job: FineTuneJob) -> str:
        """Starts training on the job's dataset (``job.dataset_prefix``) with its
        hyperparameters; returns the training job's name. Raises ModelUnavailable when
        training cannot run here (no train.py, no role configured)."""

    @abstractmethod
    def status(self, job: FineTuneJob) -> TrainingState:
        """The run's current state; once finished, with its metrics and adapter artifact."""

    def stop(self, job: FineTuneJob) -> None:
        """Asks a running job to stop (best effort)."""
