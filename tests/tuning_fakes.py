"""Hand-written fakes for fine-tuning: a launcher that 'trains' instantly (writing what
train.py writes), a registry that records, and a chat model that serves adapters by name."""

from __future__ import annotations

import json
from pathlib import Path

from apiclient import multipart
from fakes import FakeChatModel
from noticebot.adapters.local.events import sagemaker_training_state_change
from noticebot.domain.errors import ModelUnavailable
from noticebot.domain.keys import dataset_key
from noticebot.domain.tuning import FineTuneJob, ModelVersion, TrainingState
from noticebot.ports.model_registry import ModelRegistry
from noticebot.ports.training_launcher import CHANNELS, JOB_TAG, WORKSPACE_TAG, TrainingLauncher


def write_adapter(model_dir: Path, eval_loss: float, base_eval_loss: float, **extra) -> dict:
    """What train.py leaves in SM_MODEL_DIR."""
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / "adapter_config.json").write_text(json.dumps(
        {"peft_type": "LORA", "r": 8, "lora_alpha": 16, "base_model_name_or_path": "tiny"}))
    (model_dir / "adapter_model.safetensors").write_bytes(b"\0" * 64)
    metrics = {"train_loss": 0.9, "eval_loss": eval_loss, "base_eval_loss": base_eval_loss,
               "steps": 12, "train_seconds": 0.5, "examples": 10, "device": "cpu",
               "eval_history": [{"step": 12, "eval_loss": eval_loss}], **extra}
    (model_dir / "metrics.json").write_text(json.dumps(metrics))
    return metrics


class FakeLauncher(TrainingLauncher):
    """``launch`` records the job and reads its dataset; ``finish`` sends the completion event
    (as the subprocess launcher does when train.py exits). ``auto_finish`` sends it at once."""

    def __init__(self, blobs, work_dir: Path, *, eval_loss=0.8, base_eval_loss=1.2,
                 auto_finish=False, job_prefix="noticebot-ft-"):
        self.blobs, self.work_dir = blobs, Path(work_dir)
        self.eval_loss, self.base_eval_loss = eval_loss, base_eval_loss
        self.auto_finish, self.job_prefix = auto_finish, job_prefix
        self.on_event = None
        self.launched: list[FineTuneJob] = []
        self.datasets: dict[str, dict[str, list[dict]]] = {}
        self.states: dict[str, TrainingState] = {}
        self.fail_launch: Exception | None = None

    def launch(self, job: FineTuneJob) -> str:
        if self.fail_launch:
            raise self.fail_launch
        self.launched.append(job)
        self.datasets[job.job_id] = {
            c: [json.loads(line) for line in self.blobs.get(
                dataset_key(job.workspace_id, job.job_id, c)).decode().splitlines()]
            for c in CHANNELS}
        if self.auto_finish:
            self.finish(job)
        return f"{self.job_prefix}{job.job_id}"

    def event(self, job: FineTuneJob, status="Completed", failure=None) -> dict:
        model_dir = self.work_dir / job.workspace_id / job.job_id / "model"
        metrics = {}
        if status == "Completed":
            metrics = write_adapter(model_dir, self.eval_loss, self.base_eval_loss)
        return sagemaker_training_state_change(
            f"{self.job_prefix}{job.job_id}", status,
            tags={WORKSPACE_TAG: job.workspace_id, JOB_TAG: job.job_id},
            output_path=str(model_dir), artifact_uri=str(model_dir) if metrics else "",
            metrics={k: v for k, v in metrics.items() if isinstance(v, (int, float))},
            failure_reason=failure)

    def finish(self, job: FineTuneJob, status="Completed", failure=None):
        return self.on_event(self.event(job, status, failure))

    def status(self, job: FineTuneJob) -> TrainingState:
        return self.states.get(job.job_id, TrainingState(
            "InProgress", "Training", 0.5, {"train_loss": 1.5}))


class RecordingRegistry(ModelRegistry):
    def __init__(self, server=None):
        self.server = server
        self.registered: list[str] = []
        self.deployed: list[str] = []
        self.deleted: list[str] = []
        self.approved: list[tuple[str, str]] = []
        self.fail_deploy: Exception | None = None
        self.fail_approve: Exception | None = None

    def adapter_name(self, version: ModelVersion) -> str:
        return f"adapter-{version.workspace_id}-{version.model_id}"

    def register(self, version: ModelVersion) -> str:
        self.registered.append(version.model_id)
        return f"arn:aws:sagemaker:us-east-1:123456789012:model-package/g/{len(self.registered)}"

    def deploy(self, version: ModelVersion) -> str:
        if self.fail_deploy:
            raise self.fail_deploy
        self.deployed.append(version.model_id)
        if self.server is not None:
            self.server.register_adapter(version.adapter_name, version.artifact_uri)
        return version.adapter_name

    def approve(self, version: ModelVersion, note: str) -> None:
        if self.fail_approve:
            raise self.fail_approve
        self.approved.append((version.model_id, note))

    def delete(self, version: ModelVersion) -> None:
        self.deleted.append(version.model_id)


class AdapterChatModel(FakeChatModel):
    """FakeChatModel that serves registered adapters by name and fails on any other."""

    def __init__(self):
        super().__init__()
        self.adapters: dict[str, str] = {}
        self.adapters_used: list[str | None] = []
        self.broken: set[str] = set()

    def register_adapter(self, name: str, adapter_dir: str) -> None:
        self.adapters[name] = adapter_dir

    def generate(self, messages, params, adapter=None):
        self.adapters_used.append(adapter)
        if adapter is not None and (adapter not in self.adapters or adapter in self.broken):
            raise ModelUnavailable(f"adapter {adapter!r} not deployed")
        return super().generate(messages, params, adapter)


QA = [(f"When does the {thing} start?", f"The {thing} starts at {h} o'clock in the main hall.")
      for h, thing in enumerate(["choir", "chess club", "bake sale", "book fair", "swim gala",
                                 "art show", "quiz night", "fun run", "film club", "jumble sale",
                                 "science fair", "garden day"], start=1)]


def qa_csv(pairs=QA, header="question,answer") -> bytes:
    lines = [header] + [f'"{q}","{a}"' for q, a in pairs]
    return ("\n".join(lines) + "\n").encode()


def upload(api, claims, name: str, data: bytes, ctype="text/csv", container=None):
    body, content_type = multipart({"metadata": "{}"}, {"file": (name, data, ctype)})
    status, out = api.call("POST", "/api/upload", claims=claims, raw_body=body,
                           content_type=content_type)
    assert status == 202, out
    if container is not None:
        container.queue.drain()
    return out["document_id"]


