"""The typed config (cdk.json context) and the region -> image URI table."""

from __future__ import annotations

import copy
import dataclasses

import pytest
from cdk_testlib import cdk_json_context

from cdk import images
from cdk.config import CONTEXT_KEY, ConfigError, config_from_dict


@pytest.fixture()
def raw() -> dict:
    return copy.deepcopy(cdk_json_context()[CONTEXT_KEY])


def test_cdk_json_config_is_typed_and_frozen(raw):
    config = config_from_dict(raw)
    assert sorted(config.stages) == ["dev", "prod"]
    dev = config.stage("dev")
    assert dev.prefix == "noticebot-dev"
    assert dev.search.service == "es" and config.stage("prod").search.service == "aoss"
    assert isinstance(dev.storage.cors_origins, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        dev.name = "other"  # type: ignore[misc]


def test_stages_share_one_schema_and_differ_only_by_values(raw):
    dev, prod = raw["stages"]["dev"], raw["stages"]["prod"]

    def shape(d):
        return {k: shape(v) if isinstance(v, dict) else None for k, v in d.items()}

    assert shape(dev) == shape(prod)


@pytest.mark.parametrize("mutate, message", [
    (lambda r: r["stages"]["dev"].update(typo=1), "unknown key"),
    (lambda r: r["stages"]["dev"]["search"].update(mode="elastic"), "search.mode"),
    (lambda r: r["stages"]["dev"]["functions"].update(api_timeout_s=60), "api_timeout_s"),
    (lambda r: r["stages"]["dev"]["functions"].update(ingest_max_concurrency=1),
     "ingest_max_concurrency"),
    (lambda r: r["stages"]["dev"]["functions"].update(max_upload_bytes=8 * 2**20),
     "max_upload_bytes"),
    (lambda r: r["stages"]["dev"]["model"].update(min_copies=3, max_copies=1), "min_copies"),
    (lambda r: r["stages"]["dev"]["model"].update(weights_s3_uri="bucket/x"), "weights_s3_uri"),
    (lambda r: r["stages"]["dev"]["training"].update(instance_type="g5.2xlarge"),
     "training.instance_type"),
    (lambda r: r["stages"]["dev"]["training"].update(max_runtime_s=7200, max_wait_s=3600),
     "training.max_wait_s"),
    (lambda r: r["stages"]["dev"]["training"].update(max_runtime_s=0), "max_runtime_s"),
    (lambda r: r["stages"]["dev"]["training"].update(image_uri="my-trainer:1"),
     "training.image_uri"),
    (lambda r: r["stages"]["dev"]["training"].update(spot="yes"), "expected true/false"),
    (lambda r: r["stages"]["dev"]["functions"].update(deploy_timeout_s=901), "deploy_timeout_s"),
    (lambda r: (r.update(project="noticebot-longer"), r["stages"].update(
        stagename123=r["stages"]["dev"])), "too long for fine-tune job names"),
    (lambda r: r["stages"]["dev"].update(log_retention_days=31), "log_retention_days"),
    (lambda r: r["stages"]["dev"]["api"].update(throttle_burst="40"), "expected an integer"),
    (lambda r: r["pipeline"].update(connection_arn="not-an-arn"), "connection_arn"),
    (lambda r: r["pipeline"].update(stages=["dev", "qa"]), "unknown stage 'qa'"),
])
def test_config_mistakes_fail_with_the_key_named(raw, mutate, message):
    mutate(raw)
    with pytest.raises(ConfigError, match=message):
        config_from_dict(raw)


def test_missing_context_is_a_clear_error():
    with pytest.raises(ConfigError, match="cdk.json"):
        config_from_dict(None)


@pytest.mark.parametrize("container, tag, region, expected", [
    # Values returned by sagemaker.core.image_uris.retrieve (sagemaker-core 2.27) for these.
    ("lmi", "0.31.0-lmi13.0.0-cu124", "us-east-1",
     "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.31.0-lmi13.0.0-cu124"),
    ("lmi", "0.31.0-lmi13.0.0-cu124", "eu-south-1",
     "692866216735.dkr.ecr.eu-south-1.amazonaws.com/djl-inference:0.31.0-lmi13.0.0-cu124"),
    ("tgi", "2.7.0-tgi3.3.6-gpu-py311-cu124-ubuntu22.04", "ap-east-1",
     "871362719292.dkr.ecr.ap-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:"
     "2.7.0-tgi3.3.6-gpu-py311-cu124-ubuntu22.04"),
    ("lmi", "0.31.0-lmi13.0.0-cu124", "cn-north-1",
     "727897471807.dkr.ecr.cn-north-1.amazonaws.com.cn/djl-inference:0.31.0-lmi13.0.0-cu124"),
])
def test_image_uri_per_region(container, tag, region, expected):
    assert images.image_uri(container, tag, region) == expected
    account, parsed_region, repository = images.parse_image_uri(expected)
    assert (account, parsed_region) == (images.dlc_account(region), region)
    assert repository == images.REPOSITORIES[container]


def test_unknown_region_asks_for_an_explicit_image():
    with pytest.raises(images.UnknownRegion, match="model.image_uri"):
        images.image_uri("lmi", "x", "xx-nowhere-1")


def test_dev_model_uses_the_regional_lmi_image(dev, config):
    _, model = next(iter(dev.find_resources("AWS::SageMaker::Model").items()))
    m = config.stage("dev").model
    assert model["Properties"]["PrimaryContainer"]["Image"] == images.image_uri(
        "lmi", m.image_tag, config.stage("dev").region)


# ---- what a first real deployment needs, refused at synth rather than minutes into a deploy --
def test_a_gated_model_without_staged_weights_fails_the_synth_naming_the_setting(raw):
    """Neither the endpoint nor the training jobs carry a hub token: the LMI container would
    retry the gated download until the inference component's start-up timeout (an hour), then
    the stack rolls back."""
    raw["stages"]["dev"]["model"]["weights_s3_uri"] = ""
    with pytest.raises(ConfigError, match=r"noticebot\.stages\.dev\.model\.weights_s3_uri: "
                                          r"required for meta-llama/"):
        config_from_dict(raw)
    raw["stages"]["dev"]["model"]["model_id"] = "TinyLlama/TinyLlama-1.1B-Chat-v1.0"
    assert config_from_dict(raw).stage("dev").model.weights_s3_uri == ""  # an open model


def test_cdk_json_stages_stage_weights_with_account_and_region_filled_per_stack(raw):
    for name in ("dev", "prod"):
        m = config_from_dict(raw).stage(name).model
        assert m.weights_s3_uri.startswith("s3://noticebot-weights-{account}-{region}/")
        assert m.weights_uri(account="123456789012", region="eu-west-1") == (
            "s3://noticebot-weights-123456789012-eu-west-1/meta-llama/Meta-Llama-3-8B-Instruct/")
    raw["stages"]["dev"]["model"]["weights_s3_uri"] = "s3://w-{acount}/x/"
    with pytest.raises(ConfigError, match="placeholders"):
        config_from_dict(raw)


@pytest.mark.parametrize("arn", [
    "arn:aws:codeconnections:us-east-1:111111111111:connection/"
    "00000000-0000-0000-0000-000000000000",
    "arn:aws:codestar-connections:eu-west-1:123456789012:connection/"
    "00000000-0000-0000-0000-000000000000",
])
def test_the_example_connection_arn_is_refused_with_what_to_do(raw, arn):
    raw["pipeline"]["connection_arn"] = arn
    with pytest.raises(ConfigError, match=r"pipeline\.connection_arn: is the example placeholder"):
        config_from_dict(raw)


def test_a_real_connection_arn_or_none_is_accepted(raw):
    assert config_from_dict(raw).pipeline.connection_arn == ""  # the stack creates one
    raw["pipeline"]["connection_arn"] = (
        "arn:aws:codeconnections:us-east-1:210987654321:connection/"
        "4f2b8c1e-9a7d-4e3b-8f61-2c5d9e0a7b34")
    assert config_from_dict(raw).pipeline.connection_arn.endswith("7b34")


def test_function_timeouts_must_fit_their_slowest_blocking_path(raw):
    """The API function's slowest request (an embedding, two searches, a rerank) and a whole
    chat answer (with the model's read timeout and its retry) must end before the function
    does; the numbers are the clients' (noticebot.adapters.aws.clients)."""
    from noticebot.adapters.aws.clients import blocking_path_s, worst_case_s

    from cdk.config import FUNCTION_MARGIN_S

    assert blocking_path_s("api") + FUNCTION_MARGIN_S <= 29  # API Gateway's limit
    assert worst_case_s("sagemaker-runtime") > 29  # the model has more than the API had
    for stage in ("dev", "prod"):
        f = config_from_dict(raw).stage(stage).functions
        assert f.api_timeout_s >= blocking_path_s("api") + FUNCTION_MARGIN_S
        assert f.chat_timeout_s >= blocking_path_s("chat") + FUNCTION_MARGIN_S
    raw["stages"]["dev"]["functions"]["chat_timeout_s"] = 60
    with pytest.raises(ConfigError, match="chat_timeout_s: >= "):
        config_from_dict(raw)
    raw["stages"]["dev"]["functions"]["chat_timeout_s"] = 120
    raw["stages"]["dev"]["functions"]["api_timeout_s"] = 20
    with pytest.raises(ConfigError, match="api_timeout_s: >= "):
        config_from_dict(raw)


def test_gpu_instance_types_are_per_stage_settings(raw):
    """New accounts often have a quota of 0 for ml.g5 endpoints and spot training: a stage can
    move to a type it has quota for without a code change (`make preflight` checks)."""
    raw["stages"]["dev"]["model"]["instance_type"] = "ml.g6.2xlarge"
    raw["stages"]["dev"]["training"]["instance_type"] = "ml.g6.xlarge"
    dev = config_from_dict(raw).stage("dev")
    assert (dev.model.instance_type, dev.training.instance_type) == ("ml.g6.2xlarge",
                                                                      "ml.g6.xlarge")
