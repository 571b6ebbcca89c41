"""The API and the launchers agree with train.py's own rules
(sagemaker/training/hyperparameters.py, standard library only, loaded by path): the same
ranges, the same metric regexes, and every request the API accepts is one train.py accepts in
both forms it can receive (SageMaker's strings in hyperparameters.json, SM_HPS JSON)."""

import importlib.util
import sys
from pathlib import Path

import pytest

from noticebot.adapters.aws.sagemaker_training import METRIC_DEFINITIONS
from noticebot.domain.errors import Unprocessable
from noticebot.ports.training_launcher import decode_hyperparameters, encode_hyperparameters
from noticebot.services.finetune import HYPERPARAMETERS, validate_hyperparameters

PATH = Path(__file__).resolve().parents[3] / "sagemaker" / "training" / "hyperparameters.py"


@pytest.fixture(scope="module")
def train_rules():
    if not PATH.is_file():
        pytest.skip("sagemaker/training/hyperparameters.py is not there yet")
    spec = importlib.util.spec_from_file_location("train_hyperparameters", PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(spec.name, None)
    return module


def test_metric_definitions_are_train_pys(train_rules):
    assert METRIC_DEFINITIONS == train_rules.METRIC_DEFINITIONS


def test_ranges_are_train_pys(train_rules):
    for name, (kind, low, high) in HYPERPARAMETERS.items():
        spec = train_rules.SCHEMA[name]
        assert (spec.kind, spec.low, spec.high) == (kind, low, high), name


def test_what_the_api_accepts_train_py_accepts(train_rules):
    for bound in (1, 2):  # 1: every low end, 2: every high end
        request = {name: (low if bound == 1 else high)
                   for name, (_, low, high) in HYPERPARAMETERS.items()}
        hps = {**validate_hyperparameters(request), "chat_template": "chatml",
               "model_name_or_path": "/models/SmolLM2-135M-Instruct.Q4_1.gguf"}
        encoded = encode_hyperparameters(hps)
        for form in (encoded, decode_hyperparameters(encoded)):
            parsed = train_rules.parse_hyperparameters(form)
            assert parsed.epochs == hps["epochs"] and parsed.learning_rate == hps["learning_rate"]
            assert parsed.max_steps == hps["max_steps"] and parsed.chat_template == "chatml"


def test_what_the_api_refuses_train_py_refuses(train_rules):
    for name, (kind, low, high) in HYPERPARAMETERS.items():
        below = low - (1 if kind is int else low / 2 + 1e-9)
        if name == "max_steps":
            below = -1  # 0 is train.py's "not set"; the API simply leaves max_steps out
        for bad in (below, high * 2 + 1):
            with pytest.raises(Unprocessable):
                validate_hyperparameters({name: bad})
            with pytest.raises(ValueError):
                train_rules.parse_hyperparameters({name: bad})
