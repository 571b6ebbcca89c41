"""moto 5.2 implements training jobs and model packages but not inference components: this
client forwards everything to moto except the inference-component calls, which it checks
against botocore's request model and records (hand-written, no mocks library)."""

from __future__ import annotations

from botocore.exceptions import ClientError
from botocore.validate import validate_parameters


class InferenceComponentsOnMoto:
    def __init__(self, moto_client):
        self._moto = moto_client
        self.components: dict[str, dict] = {}
        self.deleted: list[str] = []

    def __getattr__(self, name):
        return getattr(self._moto, name)

    def _validate(self, operation: str, params: dict) -> None:
        shape = self._moto.meta.service_model.operation_model(operation).input_shape
        validate_parameters(params, shape)  # raises ParamValidationError like a real client

    @staticmethod
    def _error(code: str, message: str, operation: str) -> ClientError:
        return ClientError({"Error": {"Code": code, "Message": message}}, operation)

    def create_inference_component(self, **params):
        self._validate("CreateInferenceComponent", params)
        name = params["InferenceComponentName"]
        if name in self.components:
            raise self._error("ValidationException", "Cannot create already existing inference "
                              f"component \"{name}\".", "CreateInferenceComponent")
        self.components[name] = {**params, "InferenceComponentStatus": "Creating"}
        return {"InferenceComponentArn":
                f"arn:aws:sagemaker:us-east-1:123456789012:inference-component/{name}"}

    def delete_inference_component(self, **params):
        self._validate("DeleteInferenceComponent", params)
        name = params["InferenceComponentName"]
        if self.components.pop(name, None) is None:
            raise self._error("ValidationException", f"Could not find inference component "
                              f"\"{name}\".", "DeleteInferenceComponent")
        self.deleted.append(name)
        return {}
