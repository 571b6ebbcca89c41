"""The bucket's key layout: what IAM grants and the S3 notification scope to."""

from __future__ import annotations

from noticebot.domain.keys import (
    TENANTS_PREFIX,
    checkpoints_prefix,
    dataset_key,
    model_metrics_key,
    objects_of_every_workspace,
    raw_key,
    raw_prefix,
    workspace_of_models_path,
    workspace_of_raw_key,
)


def test_every_tenant_key_starts_with_its_workspace():
    keys = [raw_key("ws", "d1", "a.pdf"), dataset_key("ws", "j1", "train"),
            checkpoints_prefix("ws", "job"), model_metrics_key("ws", "ft-1")]
    assert all(k.startswith(f"{TENANTS_PREFIX}ws/") for k in keys)
    assert raw_key("ws", "d1", "a.pdf") == "tenants/ws/raw/d1/a.pdf"
    assert dataset_key("ws", "j1", "train") == "tenants/ws/datasets/j1/train/train.jsonl"


def test_the_workspace_comes_back_only_from_its_kind_of_key():
    assert workspace_of_raw_key(raw_key("ws", "d1", "a.pdf")) == "ws"
    assert workspace_of_raw_key(raw_prefix("ws") + "d1/") == "ws"
    assert workspace_of_raw_key(dataset_key("ws", "j1", "train")) is None
    assert workspace_of_raw_key("transcripts/x.json") is None
    assert workspace_of_models_path("s3://b/tenants/ws/models/job/output/model.tar.gz") == "ws"
    assert workspace_of_models_path("s3://b/tenants/ws/raw/d/f") is None


def test_grant_patterns_match_the_keys():
    from fnmatch import fnmatch
    assert fnmatch(raw_key("ws", "d1", "a.pdf"), objects_of_every_workspace("raw"))
    assert fnmatch(model_metrics_key("ws", "ft-1"), objects_of_every_workspace("models"))
    assert not fnmatch(dataset_key("ws", "j", "train"), objects_of_every_workspace("models"))
