"""train.py's contract where it fails fast (before torch loads): exit codes, messages,
failure files; its step plan (what a resumed spot job skips); its argument parsing."""

import json
import os
import subprocess
import sys
from pathlib import Path

import hyperparameters as hp
import pytest
import train

TRAINING = Path(__file__).resolve().parents[3] / "sagemaker" / "training"


def run_train(tmp_path, hyperparameters, train_lines=None, env_extra=None, args=()):
    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    (config / "hyperparameters.json").write_text(json.dumps(hyperparameters))
    data = tmp_path / "train"
    data.mkdir(exist_ok=True)
    (data / "train.jsonl").write_text("\n".join(train_lines or []) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SM_")}
    env.update({
        "SM_INPUT_CONFIG_DIR": str(config), "SM_CHANNEL_TRAIN": str(data),
        "SM_CHANNEL_VALIDATION": str(tmp_path / "none"), "SM_MODEL_DIR": str(tmp_path / "model"),
        "SM_OUTPUT_DATA_DIR": str(tmp_path / "out" / "data"), "SM_OUTPUT_DIR": str(tmp_path / "out"),
        **(env_extra or {}),
    })
    return subprocess.run([sys.executable, str(TRAINING / "train.py"), *args], env=env,
                          capture_output=True, text=True, timeout=60)


def test_bad_hyperparameters_exit_2_with_a_clear_message(tmp_path):
    proc = run_train(tmp_path, {"epochs": "0", "learning_rate": "1", "lora_dropout": "0.9"})
    assert proc.returncode == hp.EXIT_BAD_HYPERPARAMETERS
    assert "invalid hyperparameters: epochs: must be an integer between 1 and 20 (got '0')" in proc.stderr
    assert "learning_rate" in proc.stderr and "lora_dropout" in proc.stderr
    assert "Traceback" not in proc.stderr
    failure = json.loads((tmp_path / "out" / "data" / "failure.json").read_text())
    assert failure["exit_code"] == 2 and "epochs" in failure["message"]
    assert (tmp_path / "out" / "failure").read_text().startswith("invalid hyperparameters")


def test_sm_hps_wins_over_the_file_and_arguments_override(tmp_path):
    proc = run_train(tmp_path, {"epochs": "3"}, env_extra={"SM_HPS": json.dumps({"epochs": 99})})
    assert proc.returncode == 2 and "got 99" in proc.stderr
    proc = run_train(tmp_path, {"epochs": "3"}, args=["--epochs", "42"])
    assert proc.returncode == 2 and "got '42'" in proc.stderr
    proc = run_train(tmp_path, {}, env_extra={"SM_HPS": "{not json"})
    assert proc.returncode == 2 and "SM_HPS is not JSON" in proc.stderr


def test_no_usable_data_exits_3(tmp_path):
    proc = run_train(tmp_path, {"epochs": "1"}, ['{"question": "", "answer": ""}', "junk"])
    assert proc.returncode == hp.EXIT_BAD_DATA
    assert "no usable training examples" in proc.stderr and "empty pair" in proc.stderr
    proc = run_train(tmp_path, {"epochs": "1"}, ['{"text": "only one document"}'])
    assert proc.returncode == hp.EXIT_BAD_DATA and "no validation examples" in proc.stderr


def test_parse_argv():
    assert train.parse_argv(["--epochs", "3", "--learning-rate=0.001"]) == {"epochs": "3", "learning_rate": "0.001"}
    with pytest.raises(train.Failure):
        train.parse_argv(["epochs"])
    with pytest.raises(train.Failure):
        train.parse_argv(["--epochs"])


def test_step_plan_covers_every_example_each_epoch_and_honours_max_steps():
    h = hp.parse_hyperparameters({"epochs": 2, "per_device_batch_size": 3, "gradient_accumulation_steps": 2})
    steps = train.plan_steps(10, h)
    assert len(steps) == 4  # 4 micro-batches an epoch, 2 per step
    for epoch in (0, 1):
        seen = sorted(i for e, group, _ in steps if e == epoch for batch in group for i in batch)
        assert seen == list(range(10))
    assert [end for _, _, end in steps] == [False, True, False, True]
    assert train.plan_steps(10, h) == steps  # seeded: a resumed run replays the same order
    capped = train.plan_steps(10, hp.parse_hyperparameters({**h.as_dict(), "max_steps": 3}))
    assert len(capped) == 3 and capped[-1][2] is True  # evaluate after the last step
