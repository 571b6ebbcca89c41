"""Metric lines printed by train.py and the SageMaker metric-definition regexes."""

import re

import hyperparameters as hp
import pytest


def regex(name):
    (definition,) = [d for d in hp.METRIC_DEFINITIONS if d["Name"] == name]
    return re.compile(definition["Regex"])


def test_definitions_have_the_shape_create_training_job_takes():
    assert [d["Name"] for d in hp.METRIC_DEFINITIONS] == ["train_loss", "eval_loss", "base_eval_loss"]
    for d in hp.METRIC_DEFINITIONS:
        assert set(d) == {"Name", "Regex"} and len(d["Regex"]) <= 500
        assert re.compile(d["Regex"]).groups == 1


@pytest.mark.parametrize("value", [11.7854, 0.000123, 3.0, 1e-9, 123456.5])
def test_fragment_round_trips_through_its_regex(value):
    for name in hp.METRIC_NAMES:
        text = hp.metric_fragment(name, value)
        assert text.endswith(";") and "e" not in text.split("=")[1]
        assert float(regex(name).search(text).group(1)) == pytest.approx(value, abs=1e-6)


def test_lines_as_train_py_prints_them():
    train = "step=4/21 epoch=0.57 train_loss=11.537983; learning_rate=4.728e-03"
    evaluation = "step=7/21 epoch=1.00 eval_loss=11.246847;"
    base = "base model on the validation split: base_eval_loss=11.785426; (1.1 s)"
    assert float(regex("train_loss").search(train).group(1)) == 11.537983
    assert float(regex("eval_loss").search(evaluation).group(1)) == 11.246847
    assert float(regex("base_eval_loss").search(base).group(1)) == 11.785426
    # no metric is read from another's line
    assert regex("eval_loss").search(base) is None
    assert regex("train_loss").search(evaluation) is None
    assert regex("eval_loss").search(train) is None
