"""A fine-tune that cannot run on this machine is refused up front (503, saying what to
install), never accepted as a job that fails later. The launcher asks the interpreter train.py
runs with; here that is this Python started without its site-packages, so torch,
transformers and peft cannot be found in it."""

import os
import sys
from pathlib import Path

import pytest

from noticebot.adapters.aws.sagemaker_training import SageMakerTrainingLauncher
from noticebot.adapters.local.subprocess_launcher import SubprocessLauncher

SCRIPT = Path(__file__).parents[2] / "fixtures" / "training" / "fake_train.py"


@pytest.fixture
def bare_python(tmp_path) -> str:
    """An interpreter with the standard library only: this Python with -S (no site)."""
    path = tmp_path / "bare-python"
    path.write_text(f'#!/bin/sh\nexec "{sys.executable}" -I -S "$@"\n')
    path.chmod(0o755)
    return str(path)


def test_a_python_without_the_training_packages_is_not_ready(tmp_path, bare_python):
    launcher = SubprocessLauncher(tmp_path / "training", None, script=SCRIPT, python=bare_python)
    reason = launcher.unready_reason()
    assert reason is not None
    for package in ("torch", "transformers", "peft"):
        assert package in reason
    assert "make install-train" in reason and bare_python in reason


def test_the_projects_python_is_ready(tmp_path):
    launcher = SubprocessLauncher(tmp_path / "training", None, script=SCRIPT)
    assert launcher.unready_reason() is None
    # Kept once found: a second question starts no process.
    launcher.python = "/nonexistent/python"
    assert launcher.unready_reason() is None


def test_a_missing_train_script_is_not_ready(tmp_path):
    launcher = SubprocessLauncher(tmp_path / "training", None, script=tmp_path / "train.py")
    assert "NOTICEBOT_TRAIN_SCRIPT" in launcher.unready_reason()


def test_an_interpreter_that_cannot_start_is_not_ready(tmp_path):
    launcher = SubprocessLauncher(tmp_path / "training", None, script=SCRIPT,
                                  python=str(tmp_path / "no-such-python"))
    assert "torch" in launcher.unready_reason()


def test_sagemaker_brings_its_own_training_environment():
    launcher = SageMakerTrainingLauncher(lambda: None, bucket="b", role_arn="arn:role",
                                         image_uri="image", region="eu-west-1")
    assert launcher.unready_reason() is None


def test_the_api_refuses_a_fine_tune_the_machine_cannot_run(api, editor, board, tmp_path,
                                                             bare_python):
    board.finetune.launcher = SubprocessLauncher(tmp_path / "training", board.blobs,
                                                 script=SCRIPT, python=bare_python)
    status, body = api.call("POST", "/api/fine-tune", {"parameters": {"epochs": 1}},
                            claims=editor)
    assert status == 503, body
    assert body["error"]["code"] == "model_unavailable"
    assert "make install-train" in body["error"]["message"]
    # Nothing was started or kept: no job, no dataset, and the workspace's slot is free.
    assert board.metadata.list_jobs("riverside") == []
    assert not os.path.exists(tmp_path / "training")
    assert board.metadata.claim_tuning_slot("riverside", "next") is None
