from datetime import datetime, timezone

from noticebot.domain.tuning import (
    FineTuneJob,
    JobStatus,
    ModelStatus,
    ModelVersion,
    activation_decision,
    numeric_metrics,
)


def test_activation_rule_needs_a_strictly_lower_validation_loss():
    assert activation_decision({"eval_loss": 0.9, "base_eval_loss": 1.0})[0] is True
    assert activation_decision({"eval_loss": 1.0, "base_eval_loss": 1.0})[0] is False
    assert activation_decision({"eval_loss": 1.2, "base_eval_loss": 1.0}) == (
        False, "validation loss 1.2000 did not beat the base model's 1.0000 on the same split "
               "(not activated on arrival)")
    assert activation_decision({"eval_loss": 0.9, "base_eval_loss": 1.0})[1] == (
        "validation loss 0.9000 beat the base model's 1.0000 on the same split "
        "(activated on arrival)")
    ok, reason = activation_decision({"eval_loss": 0.5})
    assert not ok and "no validation loss" in reason


def test_numeric_metrics_keep_finite_numbers_only():
    assert numeric_metrics({"eval_loss": 0.5, "steps": 8, "device": "cpu", "nan": float("nan"),
                            "flag": True, "history": [1], "text_number": "1.5"}) == {
        "eval_loss": 0.5, "steps": 8, "text_number": 1.5}


def test_records_round_trip_through_dicts_and_ignore_unknown_fields():
    t = datetime(2026, 11, 25, 12, tzinfo=timezone.utc)
    job = FineTuneJob("ws", "j", "u", hyperparameters={"epochs": 2}, status=JobStatus.RUNNING,
                      created_at=t, updated_at=t, finished_at=t)
    data = job.to_dict()
    assert data["status"] == "running" and data["created_at"] == t.isoformat()
    assert FineTuneJob.from_dict({**data, "added_later": 1}) == job
    version = ModelVersion("ws", "m", "j", "Fine-tune 1", status=ModelStatus.FAILED, created_at=t,
                           updated_at=t)
    assert ModelVersion.from_dict(version.to_dict()) == version
    assert job.active and not FineTuneJob("ws", "j", "u", status=JobStatus.COMPLETED).active
