"""Hyperparameter schema and validation (sagemaker/training/hyperparameters.py)."""

import json
import subprocess
import sys
from pathlib import Path

import hyperparameters as hp
import pytest

TRAINING = Path(__file__).resolve().parents[3] / "sagemaker" / "training"


def test_defaults_are_sane_and_complete():
    h = hp.parse_hyperparameters({})
    assert h.epochs == 3 and h.learning_rate == 2e-4 and h.chat_template == "llama3"
    assert h.max_steps is None and h.lora_r == 16 and h.lora_alpha == 32
    assert set(h.as_dict()) == set(hp.SCHEMA)
    assert hp.parse_hyperparameters(None) == h


def test_sagemaker_strings_json_quoting_and_toolkit_keys():
    raw = {
        "epochs": "5", "learning_rate": "0.0003", "lora_r": "8", "lora_dropout": "0.1",
        "max_seq_length": "512", "per_device_batch_size": "4", "gradient_accumulation_steps": "2",
        "chat_template": '"chatml"',  # SageMaker SDK v2 JSON-encodes strings
        "max_steps": "", "seed": "7", "model_name_or_path": "/opt/ml/input/data/model",
        "sagemaker_program": '"train.py"', "sagemaker_submit_directory": '"s3://b/k.tar.gz"',
    }
    h = hp.parse_hyperparameters(raw)
    assert (h.epochs, h.learning_rate, h.lora_r, h.lora_dropout) == (5, 3e-4, 8, 0.1)
    assert (h.max_seq_length, h.per_device_batch_size, h.gradient_accumulation_steps) == (512, 4, 2)
    assert h.chat_template == "chatml" and h.max_steps is None and h.seed == 7


def test_plain_json_values_and_aliases():
    h = hp.parse_hyperparameters({"num_train_epochs": 2.0, "learning_rate": 1e-4, "max_steps": 30,
                                  "batch_size": 8})
    assert (h.epochs, h.max_steps, h.per_device_batch_size) == (2, 30, 8)
    assert hp.parse_hyperparameters({"max_steps": 0}).max_steps is None


@pytest.mark.parametrize("field, value", [
    ("epochs", 0), ("epochs", 21), ("epochs", "2.5"), ("epochs", "three"), ("epochs", True),
    ("learning_rate", 1e-7), ("learning_rate", "0.02"), ("learning_rate", "nan"),
    ("lora_r", 0), ("lora_r", 257), ("lora_alpha", 0), ("lora_dropout", 0.6), ("lora_dropout", -0.1),
    ("max_seq_length", 63), ("max_seq_length", 8193), ("per_device_batch_size", 0),
    ("gradient_accumulation_steps", 129), ("max_steps", -1), ("chat_template", "mistral"),
    ("seed", -1), ("lora_target_modules", "q_proj;rm -rf"), ("load_in_4bit", "maybe"),
    ("epochs", None), ("model_name_or_path", "a\nb"), ("warmup_ratio", 0.9),
])
def test_out_of_range_values_are_rejected_with_the_field_named(field, value):
    with pytest.raises(hp.HyperparameterError) as info:
        hp.parse_hyperparameters({field: value})
    assert [e["field"] for e in info.value.errors] == [field]
    assert field in str(info.value)
    assert isinstance(info.value, ValueError)


def test_every_problem_is_reported_and_unknown_keys_fail():
    with pytest.raises(hp.HyperparameterError) as info:
        hp.parse_hyperparameters({"epochs": 0, "learning_rat": 0.1, "lora_r": 1000,
                                  "batch_size": 2, "per_device_batch_size": 2})
    fields = sorted(e["field"] for e in info.value.errors)
    assert fields == ["epochs", "learning_rat", "lora_r", "per_device_batch_size"]
    assert "unknown hyperparameter" in str(info.value)
    with pytest.raises(hp.HyperparameterError):
        hp.parse_hyperparameters(["epochs"])


def test_range_message_is_readable():
    with pytest.raises(hp.HyperparameterError, match=r"epochs: must be an integer between 1 and 20 \(got 0\)"):
        hp.parse_hyperparameters({"epochs": 0})


def test_to_sagemaker_round_trips_as_strings():
    h = hp.parse_hyperparameters({"epochs": 4, "learning_rate": 5e-5, "chat_template": "chatml"})
    strings = h.to_sagemaker()
    assert all(isinstance(v, str) for v in strings.values())
    assert "max_steps" not in strings and "model_name_or_path" not in strings
    assert hp.parse_hyperparameters(strings) == h
    assert h.target_modules == "all-linear"
    assert hp.parse_hyperparameters({"lora_target_modules": "q_proj, v_proj"}).target_modules == ["q_proj", "v_proj"]


def test_json_schema_matches_the_rules():
    schema = hp.json_schema()
    assert schema["properties"]["epochs"] == {
        "type": "integer", "default": 3, "minimum": 1, "maximum": 20,
        "description": "passes over the training split"}
    assert schema["properties"]["chat_template"]["enum"] == ["llama3", "chatml"]
    assert schema["properties"]["max_steps"]["type"] == ["integer", "null"]
    json.dumps(schema)


def test_module_imports_no_torch_and_nothing_from_its_siblings():
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import hyperparameters; "
            "bad = [m for m in sys.modules if m.split('.')[0] in "
            "('torch', 'transformers', 'peft', 'numpy', 'chat_format', 'training_data')]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code, str(TRAINING)], check=True)
