"""TrainingLauncher that runs ``sagemaker/training/train.py`` in a subprocess, SageMaker-style.

Per job, under ``<data>/training/{ws}/{job}/``, the folders a SageMaker training container has
(``/opt/ml/...``)::

    input/config/hyperparameters.json   the HyperParameters map (string values, as SageMaker)
    input/data/train/train.jsonl        channel "train"       (SM_CHANNEL_TRAIN)
    input/data/validation/...           channel "validation"  (SM_CHANNEL_VALIDATION)
    model/                              SM_MODEL_DIR: adapter + metrics.json land here
    output/data/                        SM_OUTPUT_DATA_DIR
    output/train.log                    the process's stdout and stderr

and the environment the training toolkit sets (``SM_HPS`` typed JSON, ``SM_INPUT_CONFIG_DIR``,
``SM_CHANNELS``...). A background thread waits for the process; its exit is the completion
event: an EventBridge-shaped "SageMaker Training Job State Change" handed to ``on_event`` (the
deploy handler), exactly what AWS delivers. Exit status 2 is train.py's "bad hyperparameters".
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from noticebot.adapters.local.events import sagemaker_training_state_change
from noticebot.domain.errors import ModelUnavailable
from noticebot.domain.keys import dataset_key
from noticebot.domain.tuning import FineTuneJob, TrainingState
from noticebot.ports import BlobStore
from noticebot.ports.training_launcher import (
    CHANNELS,
    JOB_TAG,
    WORKSPACE_TAG,
    TrainingLauncher,
    decode_hyperparameters,
    encode_hyperparameters,
)

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[4]
DEFAULT_SCRIPT = REPO_ROOT / "sagemaker" / "training" / "train.py"
# train.py's stdout: "step=12/40 epoch=0.60 train_loss=1.234567; learning_rate=2.0e-04"
_METRIC = re.compile(r"\b(train_loss|eval_loss|base_eval_loss|epoch)="
                     r"([-+]?\d*\.?\d+(?:[eE][-+]?\d+)?)")
_STEP = re.compile(r"\bstep=(\d+)/(\d+)")
# What train.py imports beyond the standard library (requirements-train.txt installs them).
TRAINING_PACKAGES = ("torch", "transformers", "peft")
_FIND_MISSING = ("import importlib.util, sys; print(' '.join(m for m in sys.argv[1:] "
                 "if importlib.util.find_spec(m) is None))")


@dataclass
class _Run:
    name: str
    root: Path
    process: subprocess.Popen | None = None
    started: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    stage: str = "starting"
    progress: float | None = None
    metrics: dict = field(default_factory=dict)
    tail: deque = field(default_factory=lambda: deque(maxlen=40))
    state: TrainingState | None = None  # set once the process ended
    done: threading.Event = field(default_factory=threading.Event)


class SubprocessLauncher(TrainingLauncher):
    def __init__(self, work_dir: Path, blobs: BlobStore, *, script: str | Path | None = None,
                 python: str = sys.executable, job_prefix: str = "noticebot-ft-",
                 on_event: Callable[[dict], object] | None = None,
                 extra_env: dict[str, str] | None = None, timeout_s: float = 6 * 3600):
        # Absolute: train.py runs in its own folder, and make run's data folder is relative.
        self.work_dir = Path(work_dir).resolve()
        self.blobs = blobs
        self.script = Path(script).resolve() if script else DEFAULT_SCRIPT
        self.python = python
        self.job_prefix = job_prefix
        self.on_event = on_event
        self.extra_env = dict(extra_env or {})
        self.timeout_s = timeout_s
        self._runs: dict[str, _Run] = {}
        self._lock = threading.Lock()
        self._packages_present = False

    # ------------------------------------------------------------- readiness
    def unready_reason(self) -> str | None:
        if not self.script.is_file():
            return (f"local fine-tuning needs {self.script} (set NOTICEBOT_TRAIN_SCRIPT to "
                    "train.py's path)")
        missing = self._missing_packages()
        if missing:
            return (f"local fine-tuning needs {', '.join(missing)} in {self.python}, which "
                    "train.py runs with; run `make install-train` (or `make run`, which "
                    "installs them) and try again")
        return None

    def _missing_packages(self) -> list[str]:
        """Asked of the interpreter train.py runs with, which need not be this one. Once all
        are found the answer is kept; a missing one is asked again next time, so installing
        the packages takes effect without restarting the server."""
        if self._packages_present:
            return []
        try:
            found = subprocess.run([self.python, "-c", _FIND_MISSING, *TRAINING_PACKAGES],
                                   capture_output=True, text=True, timeout=60, check=True)
        except (OSError, subprocess.SubprocessError) as exc:
            logger.warning("could not ask %s for the training packages: %s", self.python, exc)
            return list(TRAINING_PACKAGES)
        missing = found.stdout.split()
        self._packages_present = not missing
        return missing

    def folder(self, job: FineTuneJob) -> Path:
        return self.work_dir / job.workspace_id / job.job_id

    # ----------------------------------------------------------------- launch
    def launch(self, job: FineTuneJob) -> str:
        if not self.script.is_file():
            raise ModelUnavailable(f"local fine-tuning needs {self.script} (set "
                                   "NOTICEBOT_TRAIN_SCRIPT to train.py's path)")
        root = self.folder(job)
        shutil.rmtree(root, ignore_errors=True)
        dirs = {"config": root / "input" / "config", "model": root / "model",
                "output": root / "output", "data_out": root / "output" / "data",
                **{c: root / "input" / "data" / c for c in CHANNELS}}
        for d in dirs.values():
            d.mkdir(parents=True, exist_ok=True)
        for channel in CHANNELS:
            data = self.blobs.get(dataset_key(job.workspace_id, job.job_id, channel))
            (dirs[channel] / f"{channel}.jsonl").write_bytes(data)
        encoded = encode_hyperparameters(job.hyperparameters)
        (dirs["config"] / "hyperparameters.json").write_text(json.dumps(encoded, indent=1))
        env = {**os.environ, **self.extra_env,
               "SM_HPS": json.dumps(decode_hyperparameters(encoded)),
               "SM_INPUT_CONFIG_DIR": str(dirs["config"]),
               "SM_INPUT_DIR": str(root / "input"),
               "SM_CHANNELS": json.dumps(list(CHANNELS)),
               "SM_CHANNEL_TRAIN": str(dirs["train"]),
               "SM_CHANNEL_VALIDATION": str(dirs["validation"]),
               "SM_MODEL_DIR": str(dirs["model"]),
               "SM_OUTPUT_DIR": str(dirs["output"]),
               "SM_OUTPUT_DATA_DIR": str(dirs["data_out"]),
               "SM_CURRENT_HOST": "algo-1", "SM_HOSTS": json.dumps(["algo-1"]),
               "SM_TRAINING_JOB_NAME": f"{self.job_prefix}{job.job_id}",
               "PYTHONUNBUFFERED": "1"}
        run = _Run(name=f"{self.job_prefix}{job.job_id}", root=root)
        try:
            run.process = subprocess.Popen(
                [self.python, str(self.script)], cwd=str(self.script.parent), env=env,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
        except OSError as exc:
            raise ModelUnavailable(f"could not start train.py: {exc}") from exc
        with self._lock:
            self._runs[job.job_id] = run
        threading.Thread(target=self._watch, args=(job, run), name=f"train-{job.job_id[:8]}",
                         daemon=True).start()
        return run.name

    def wait(self, job_id: str, timeout: float | None = None) -> bool:
        """Blocks until the run (and its completion event) is over (CLI and tests)."""
        run = self._runs.get(job_id)
        return run.done.wait(timeout) if run else True

    # ---------------------------------------------------------------- watching
    def _watch(self, job: FineTuneJob, run: _Run) -> None:
        proc = run.process
        deadline = time.monotonic() + self.timeout_s
        killer = threading.Timer(self.timeout_s, proc.kill)
        killer.daemon = True
        killer.start()
        try:
            with open(run.root / "output" / "train.log", "w", encoding="utf-8") as log:
                run.stage = "training"
                for line in proc.stdout:
                    log.write(line)
                    run.tail.append(line.rstrip())
                    for name, value in _METRIC.findall(line):
                        run.metrics[name] = float(value)
                    step = _STEP.search(line)
                    if step and int(step.group(2)) > 0:
                        run.metrics["step"] = int(step.group(1))
                        run.progress = min(1.0, int(step.group(1)) / int(step.group(2)))
            rc = proc.wait()
        finally:
            killer.cancel()
        run.state = self._final_state(run, rc, timed_out=time.monotonic() >= deadline)
        logger.info("local training %s ended: %s", run.name, run.state.status)
        event = sagemaker_training_state_change(
            run.name, run.state.status, tags={WORKSPACE_TAG: job.workspace_id, JOB_TAG: job.job_id},
            output_path=str(run.root / "model"), artifact_uri=run.state.artifact_uri,
            metrics=run.state.metrics, failure_reason=run.state.failure_reason,
            started=run.started)
        try:
            if self.on_event is not None:
                self.on_event(event)
        except Exception:
            logger.exception("the completion handler failed for %s", run.name)
        finally:
            run.done.set()

    def _final_state(self, run: _Run, rc: int, timed_out: bool) -> TrainingState:
        model_dir = run.root / "model"
        metrics = dict(run.metrics)
        try:
            metrics.update(json.loads((model_dir / "metrics.json").read_text()))
        except (OSError, ValueError):
            pass
        tail = " | ".join(line for line in list(run.tail)[-5:] if line)[-800:]
        try:  # train.py's own account of what went wrong
            tail = json.loads((run.root / "output" / "data" / "failure.json").read_text())[
                "message"][:800] or tail
        except (OSError, ValueError, KeyError, TypeError):
            pass
        if timed_out:
            return TrainingState("Failed", "MaxRuntimeExceeded", metrics=metrics,
                                 failure_reason=f"training ran past {self.timeout_s:.0f} s")
        if rc == 0 and (model_dir / "adapter_config.json").is_file():
            return TrainingState("Completed", "Completed", 1.0, metrics, str(model_dir))
        if rc == 0:
            reason = "train.py wrote no adapter (adapter_config.json) to SM_MODEL_DIR"
        elif rc == 2:
            reason = f"train.py refused the hyperparameters: {tail}"
        elif rc == 3:
            reason = f"train.py found no usable training data: {tail}"
        else:
            reason = f"train.py exited with status {rc}: {tail}"
        return TrainingState("Failed", "Failed", metrics=metrics, failure_reason=reason)

    # ------------------------------------------------------------------ status
    def status(self, job: FineTuneJob) -> TrainingState:
        run = self._runs.get(job.job_id)
        if run is not None and run.state is not None:
            return run.state
        if run is not None:
            return TrainingState("InProgress", run.stage, run.progress, dict(run.metrics))
        model_dir = self.folder(job) / "model"  # not started by this process (restart)
        if (model_dir / "adapter_config.json").is_file():
            try:
                metrics = json.loads((model_dir / "metrics.json").read_text())
            except (OSError, ValueError):
                metrics = {}
            return TrainingState("Completed", "Completed", 1.0, metrics, str(model_dir))
        return TrainingState("Failed", "Failed", failure_reason="the local training process "
                             "is gone (the server restarted while it ran)")

    def stop(self, job: FineTuneJob) -> None:
        run = self._runs.get(job.job_id)
        if run is not None and run.process is not None and run.process.poll() is None:
            run.process.terminate()
