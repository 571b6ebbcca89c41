"""The requests the model registry adapter builds, validated against botocore's SageMaker model
(Stubber: an unknown parameter, a wrong type or a value outside the model's pattern fails).

A model package is the registry's record of one adapter version, not a deployable model: the
tarball is LoRA weights that the LMI image serves only on the base model's inference
component. The package says how it is served, so nobody deploys it on its own."""

from __future__ import annotations

import boto3
from botocore.stub import Stubber

from noticebot.adapters.aws.sagemaker_registry import DEPLOY_AS, SageMakerModelRegistry
from noticebot.domain.tuning import ModelVersion

ARTIFACT = ("s3://noticebot-dev-data-123456789012-us-east-1/tenants/riverside/models/"
            "noticebot-dev-ft-0f3c/output/model.tar.gz")
IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.31.0-lmi13.0.0-cu124"


def version() -> ModelVersion:
    return ModelVersion(workspace_id="riverside", model_id="ft-0f3c", job_id="0f3c", name="v1",
                        base_model="meta-llama/Meta-Llama-3-8B-Instruct", artifact_uri=ARTIFACT,
                        metrics={"eval_loss": 0.97, "base_eval_loss": 1.62})


def registry(client) -> SageMakerModelRegistry:
    return SageMakerModelRegistry(client, None, bucket="b", group_name="noticebot-dev-adapters",
                                  endpoint_name="noticebot-dev-llm",
                                  base_component="noticebot-dev-llm-base", image_uri=IMAGE)


def test_the_package_says_how_the_adapter_is_served_and_the_model_accepts_it():
    client = boto3.client("sagemaker", region_name="us-east-1")
    reg = registry(client)
    request = reg.package_request(version())
    meta = request["CustomerMetadataProperties"]
    assert meta["deploy_as"] == DEPLOY_AS == "adapter-inference-component"
    assert meta["base_inference_component"] == "noticebot-dev-llm-base"
    assert meta["endpoint"] == "noticebot-dev-llm"
    assert meta["adapter_component"] == "noticebot-dev-llm-ft-0f3c"
    assert "not a deployable model" in request["ModelPackageDescription"]
    with Stubber(client) as stub:
        stub.add_response("create_model_package", {
            "ModelPackageArn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/"
                               "noticebot-dev-adapters/1"}, request)
        assert reg.register(version()).endswith("/1")


def test_the_adapter_component_request_is_valid_for_the_model():
    client = boto3.client("sagemaker", region_name="us-east-1")
    reg = registry(client)
    request = reg.component_request(version())
    assert request["Specification"] == {
        "BaseInferenceComponentName": "noticebot-dev-llm-base",
        "Container": {"ArtifactUrl": ARTIFACT}}
    with Stubber(client) as stub:
        stub.add_response("create_inference_component", {
            "InferenceComponentArn": "arn:aws:sagemaker:us-east-1:123456789012:"
                                     "inference-component/noticebot-dev-llm-ft-0f3c"}, request)
        assert reg.deploy(version()) == "noticebot-dev-llm-ft-0f3c"
