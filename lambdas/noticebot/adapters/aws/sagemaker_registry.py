"""ModelRegistry on SageMaker: model packages (Studio's model registry) and adapter inference
components on the shared base endpoint.

``register``: one model package per version in the deployment's model package group, with
the adapter as ``ModelDataUrl``, the losses as ``CustomerMetadataProperties`` (visible in
Studio's version list) and as a ``ModelQuality`` statistics file written beside the adapter
(``tenants/{ws}/models/{model_id}/metrics.json``). A version that beat the base model is
``Approved``; one that did not waits as ``PendingManualApproval`` until an editor activates it
by hand (``approve``: ``UpdateModelPackage`` to ``Approved`` with who and why as the approval
description). ``ClientToken`` = the model id makes a redelivered event's second call return
the same package.

What a package is, and is not: the registry's record of one adapter version (lineage, losses,
approval, who activated it), with the serving image and the adapter tarball for reference. It
is not deployable on its own: the tarball holds LoRA weights only, and the LMI image serves
them only on top of the base model's inference component. Deploying the package as a model
(Studio's Deploy) would start a container with no base weights. The metadata says so
(``deploy_as``, ``base_inference_component``, ``endpoint``), and ``deploy`` below is how a
version is served. A self-contained package (base weights as the container's model data, the
adapter as an additional model data source) is possible but would copy nothing useful: the
product never deploys per-tenant endpoints (cdk/README.md, finding 16).

``deploy``: ``create_inference_component`` with ``BaseInferenceComponentName`` (the base
model's component) and ``Container.ArtifactUrl`` (the adapter's model.tar.gz): the LMI
container loads the LoRA adapter onto the base model's GPU; nothing is copied per tenant.
The call returns while the component is still Creating (minutes); until it is InService a
chat request to it fails and chat answers with the base model, saying so.
"""

from __future__ import annotations

import json
import logging

from noticebot.adapters.aws.clients import ClientSource, lazy
from noticebot.domain.keys import model_metrics_key
from noticebot.domain.tuning import ModelVersion, activation_decision
from noticebot.ports import BlobStore
from noticebot.ports.model_registry import ModelRegistry
from noticebot.ports.training_launcher import JOB_TAG, WORKSPACE_TAG

logger = logging.getLogger(__name__)

DEPLOY_AS = "adapter-inference-component"


def _code(exc: Exception) -> str:
    return str((getattr(exc, "response", None) or {}).get("Error", {}).get("Code", ""))


def _message(exc: Exception) -> str:
    return str((getattr(exc, "response", None) or {}).get("Error", {}).get("Message", exc))


class SageMakerModelRegistry(ModelRegistry):
    def __init__(self, client: ClientSource, blobs: BlobStore | None = None, *, bucket: str,
                 group_name: str, endpoint_name: str, base_component: str,
                 image_uri: str = ""):
        self._client = lazy(client)
        self.blobs = blobs
        self.bucket = bucket
        self.group_name = group_name
        self.endpoint_name = endpoint_name
        self.base_component = base_component
        self.image_uri = image_uri

    @property
    def client(self):
        return self._client()

    def adapter_name(self, version: ModelVersion) -> str:
        """``{endpoint}-{model_id}``: inside the API role's invoke grant (``{endpoint}-*``)."""
        return f"{self.endpoint_name}-{version.model_id}"[:63].rstrip("-")

    # ---------------------------------------------------------------- register
    def metrics_key(self, version: ModelVersion) -> str:
        return model_metrics_key(version.workspace_id, version.model_id)

    def package_request(self, version: ModelVersion) -> dict:
        approved, reason = activation_decision(version.metrics)
        request: dict = {
            "ModelPackageGroupName": self.group_name,
            "ModelPackageDescription": (
                f"LoRA adapter {version.model_id} of workspace {version.workspace_id}: {reason}. "
                f"Served as an adapter inference component on {self.endpoint_name} (base "
                f"{self.base_component}); the tarball alone is not a deployable model.")[:1024],
            "ModelApprovalStatus": "Approved" if approved else "PendingManualApproval",
            "ClientToken": version.model_id,
            "CustomerMetadataProperties": {
                "workspace": version.workspace_id, "job_id": version.job_id,
                "model_id": version.model_id, "base_model": version.base_model or "unknown",
                # How the version is served; not deployable as a model of its own.
                "deploy_as": DEPLOY_AS,
                "endpoint": self.endpoint_name or "unknown",
                "base_inference_component": self.base_component or "unknown",
                "adapter_component": self.adapter_name(version),
                **{k: f"{v:.6g}" for k, v in version.metrics.items()}},
            "Tags": [{"Key": WORKSPACE_TAG, "Value": version.workspace_id},
                     {"Key": JOB_TAG, "Value": version.job_id}],
        }
        if self.image_uri:
            request["InferenceSpecification"] = {
                "Containers": [{"Image": self.image_uri, "ModelDataUrl": version.artifact_uri}],
                "SupportedContentTypes": ["application/json"],
                "SupportedResponseMIMETypes": ["application/json"]}
        if self.blobs is not None:
            request["ModelMetrics"] = {"ModelQuality": {"Statistics": {
                "ContentType": "application/json",
                "S3Uri": f"s3://{self.bucket}/{self.metrics_key(version)}"}}}
        return request

    def register(self, version: ModelVersion) -> str:
        if not self.group_name:
            raise RuntimeError("no model package group is configured "
                               "(NOTICEBOT_MODEL_PACKAGE_GROUP)")
        if self.blobs is not None:
            self.blobs.put(self.metrics_key(version), json.dumps(
                {"adapter_metrics": version.metrics, "model_id": version.model_id}).encode(),
                "application/json")
        arn = self.client.create_model_package(**self.package_request(version))
        return arn["ModelPackageArn"]

    def approve(self, version: ModelVersion, note: str) -> None:
        if not version.package_arn:
            logger.warning("model %s has no model package to approve", version.model_id)
            return
        self.client.update_model_package(ModelPackageArn=version.package_arn,
                                         ModelApprovalStatus="Approved",
                                         ApprovalDescription=note[:1024])

    # ------------------------------------------------------------------ deploy
    def component_request(self, version: ModelVersion) -> dict:
        return {"InferenceComponentName": self.adapter_name(version),
                "EndpointName": self.endpoint_name,
                "Specification": {"BaseInferenceComponentName": self.base_component,
                                  "Container": {"ArtifactUrl": version.artifact_uri}},
                "Tags": [{"Key": WORKSPACE_TAG, "Value": version.workspace_id},
                         {"Key": JOB_TAG, "Value": version.job_id}]}

    def deploy(self, version: ModelVersion) -> str:
        if not self.endpoint_name or not self.base_component:
            raise RuntimeError("adapters need the base endpoint and its base inference "
                               "component (NOTICEBOT_CHAT_ENDPOINT, NOTICEBOT_CHAT_COMPONENT)")
        request = self.component_request(version)
        try:
            self.client.create_inference_component(**request)
        except Exception as exc:
            if not (_code(exc) == "ValidationException"
                    and "already exist" in _message(exc).lower()):
                raise
            logger.info("inference component %s already exists",
                        request["InferenceComponentName"])
        return request["InferenceComponentName"]

    def delete(self, version: ModelVersion) -> None:
        try:
            self.client.delete_inference_component(
                InferenceComponentName=self.adapter_name(version))
        except Exception as exc:
            if "could not find" not in _message(exc).lower() and \
                    "not found" not in _message(exc).lower():
                raise
