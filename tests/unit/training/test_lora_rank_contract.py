"""One largest LoRA rank for training and serving.

The endpoint's LMI container reserves adapter memory for OPTION_MAX_LORA_RANK and refuses an
adapter of a larger rank, so a fine-tune that trains one is a job that succeeds and a model
that never serves. noticebot.domain.tuning.MAX_LORA_RANK is the number; train.py's rules
(sagemaker/training/hyperparameters.py, standalone) and the CDK app's container environment
must say the same, and the API's range (services/finetune.py) must not exceed it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import hyperparameters as hp
import pytest

from noticebot.domain.tuning import MAX_LORA_RANK

ROOT = Path(__file__).resolve().parents[3]


def test_train_py_accepts_exactly_the_ranks_the_endpoint_loads():
    assert hp.MAX_LORA_RANK == MAX_LORA_RANK
    spec = hp.SCHEMA["lora_r"]
    assert (spec.low, spec.high) == (1, MAX_LORA_RANK)
    assert hp.parse_hyperparameters({"lora_r": str(MAX_LORA_RANK)}).lora_r == MAX_LORA_RANK
    with pytest.raises(hp.HyperparameterError, match="lora_r"):
        hp.parse_hyperparameters({"lora_r": str(MAX_LORA_RANK + 1)})
    assert hp.Hyperparameters().lora_r <= MAX_LORA_RANK  # the default deploys


def test_the_endpoint_is_configured_with_the_same_rank():
    pytest.importorskip("aws_cdk")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import copy
    import json

    from cdk.config import config_from_dict
    from cdk.constructs.models import container_environment

    raw = copy.deepcopy(json.loads((ROOT / "cdk.json").read_text())["context"]["noticebot"])
    config = config_from_dict(raw)
    for name in config.stages:
        env = container_environment(config.stage(name))
        assert env["OPTION_MAX_LORA_RANK"] == str(MAX_LORA_RANK)
    # Not a per-stage setting any more: a stage cannot drift from training.
    raw["stages"]["dev"]["model"]["max_lora_rank"] = 128
    with pytest.raises(ValueError, match="unknown key"):
        config_from_dict(raw)


def test_vllm_supports_the_rank_as_a_maximum():
    assert MAX_LORA_RANK in (8, 16, 32, 64, 128, 256)


def test_the_api_range_does_not_exceed_the_serving_limit():
    from noticebot.services.finetune import HYPERPARAMETERS

    _, low, high = HYPERPARAMETERS["lora_r"]
    assert low == 1
    assert high <= MAX_LORA_RANK, (
        "services/finetune.py accepts lora_r up to %d: a rank above %d trains an adapter the "
        "endpoint cannot load (use noticebot.domain.tuning.MAX_LORA_RANK there)"
        % (high, MAX_LORA_RANK))
