"""The local launcher runs a training script as SageMaker would (folders, SM_* environment,
hyperparameters file) and turns its exit into the EventBridge completion event. The script
here is a stand-in with train.py's contract (tests/fixtures/training/fake_train.py); the real
train.py is exercised by the ML integration tests."""

import json
from pathlib import Path

import pytest

from noticebot.adapters.local.folder_blob_store import FolderBlobStore
from noticebot.domain.keys import dataset_key, dataset_prefix
from noticebot.domain.tuning import FineTuneJob
from noticebot.handlers.deploy import parse_training_event

SCRIPT = Path(__file__).parents[2] / "fixtures" / "training" / "fake_train.py"


@pytest.fixture
def launcher(tmp_path):
    from noticebot.adapters.local.subprocess_launcher import SubprocessLauncher

    blobs = FolderBlobStore(tmp_path / "blobs")
    events = []
    launcher = SubprocessLauncher(tmp_path / "training", blobs, script=SCRIPT,
                                  on_event=events.append, timeout_s=60)
    launcher.events = events
    return launcher


def job_with_data(launcher, job_id="j1", **hps):
    job = FineTuneJob("riverside", job_id, "maria", hyperparameters=hps,
                      dataset_prefix=dataset_prefix("riverside", job_id))
    row = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
    for channel, n in (("train", 3), ("validation", 2)):
        launcher.blobs.put(dataset_key("riverside", job_id, channel),
                           ("\n".join(json.dumps(row) for _ in range(n)) + "\n").encode())
    return job


def test_runs_with_the_sagemaker_layout_and_reports_completion(launcher):
    job = job_with_data(launcher, epochs=2, learning_rate=0.0002, chat_template="chatml")
    name = launcher.launch(job)
    assert name == f"noticebot-ft-{job.job_id}"
    assert launcher.wait(job.job_id, timeout=30)
    root = launcher.folder(job)
    seen = json.loads((root / "output" / "data" / "seen.json").read_text())
    assert seen["hps"] == {"epochs": 2, "learning_rate": 0.0002, "chat_template": "chatml"}
    assert seen["hyperparameters.json"] == {"epochs": "2", "learning_rate": "0.0002",
                                            "chat_template": "chatml"}  # SageMaker's strings
    assert seen["channels"] == {"train": ["train.jsonl"], "validation": ["validation.jsonl"]}
    assert seen["rows"] == {"train": 3, "validation": 2}
    assert seen["env"]["SM_MODEL_DIR"] == str(root / "model")
    (event,) = launcher.events
    assert event["detail-type"] == "SageMaker Training Job State Change"
    outcome = parse_training_event(event, "noticebot-ft-")
    assert (outcome.workspace_id, outcome.job_id) == ("riverside", job.job_id)
    assert outcome.state.status == "Completed"
    assert outcome.state.artifact_uri == str(root / "model")
    assert outcome.state.metrics["eval_loss"] == pytest.approx(1.4)
    assert outcome.state.metrics["base_eval_loss"] == 2.0
    state = launcher.status(job)
    assert state.finished and state.metrics["steps"] == 2
    assert "train_loss=" in (root / "output" / "train.log").read_text()


def test_bad_hyperparameters_exit_2_becomes_a_failure_with_the_reason(launcher):
    job = job_with_data(launcher, epochs=13)
    launcher.launch(job)
    launcher.wait(job.job_id, timeout=30)
    outcome = parse_training_event(launcher.events[0], "noticebot-ft-")
    assert outcome.state.status == "Failed"
    assert outcome.state.failure_reason == "train.py refused the hyperparameters: epochs: unlucky"


def test_a_crash_reports_the_last_lines(launcher):
    job = job_with_data(launcher, epochs=14)
    launcher.launch(job)
    launcher.wait(job.job_id, timeout=30)
    state = launcher.status(job)
    assert state.status == "Failed" and "status 1" in state.failure_reason
    assert "something broke" in state.failure_reason


def test_a_missing_script_is_model_unavailable(tmp_path):
    from noticebot.adapters.local.subprocess_launcher import SubprocessLauncher
    from noticebot.domain.errors import ModelUnavailable

    launcher = SubprocessLauncher(tmp_path, FolderBlobStore(tmp_path / "b"),
                                  script=tmp_path / "nope.py")
    with pytest.raises(ModelUnavailable, match="NOTICEBOT_TRAIN_SCRIPT"):
        launcher.launch(FineTuneJob("ws", "j", "u"))


def test_status_after_a_restart_reads_the_folder(launcher, tmp_path):
    from noticebot.adapters.local.subprocess_launcher import SubprocessLauncher

    job = job_with_data(launcher)
    launcher.launch(job)
    launcher.wait(job.job_id, timeout=30)
    again = SubprocessLauncher(launcher.work_dir, launcher.blobs, script=SCRIPT)
    assert again.status(job).status == "Completed"
    other = FineTuneJob("riverside", "never-ran", "maria")
    assert again.status(other).status == "Failed"


def test_a_relative_data_folder_reaches_the_script(tmp_path, monkeypatch):
    """make run's data folder is relative (./.noticebot) and the script runs in its own
    folder: the channels it is given must still be the job's."""
    from noticebot.adapters.local.subprocess_launcher import SubprocessLauncher

    monkeypatch.chdir(tmp_path)
    launcher = SubprocessLauncher(Path("data/training"), FolderBlobStore(Path("data/blobs")),
                                  script=SCRIPT, on_event=lambda event: None, timeout_s=60)
    job = job_with_data(launcher)
    launcher.launch(job)
    assert launcher.wait(job.job_id, timeout=30)
    seen = json.loads((launcher.folder(job) / "output" / "data" / "seen.json").read_text())
    assert seen["rows"] == {"train": 3, "validation": 2}
    assert Path(seen["env"]["SM_CHANNEL_TRAIN"]).is_absolute()
