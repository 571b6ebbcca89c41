"""The smallest stand-ins for what moto 5.2.5 lacks, each behind the boto3 call the product
makes, so the product's adapters run unchanged in front of them.

- ``InProcessLambda``: the Lambda service's synchronous Invoke. moto runs functions only in
  Docker; this calls the real handler in process and answers in Invoke's shape (StatusCode,
  FunctionError for an unhandled error, a readable Payload).
- ``SageMakerStandIns``: the functions' SageMaker client is moto's, with two additions.
  moto has no CreateInferenceComponent: the request is checked against botocore's model of
  the real API (a missing or mistyped field fails as it would in AWS), a second create of the
  same name fails as SageMaker's does ("already exists"), and the component is recorded
  InService at once. moto completes a training job the moment it is created and runs
  nothing: ``training_output(job_name)`` is called right after CreateTrainingJob to put what
  the job would have written, so no reader ever sees a completed job without its output.
"""

from __future__ import annotations

import io
import json
import logging

logger = logging.getLogger(__name__)


class InProcessLambda:
    def __init__(self, functions: dict):
        """``functions``: function name or ARN -> handler(event, context)."""
        self.functions = functions

    def invoke(self, *, FunctionName, InvocationType="RequestResponse", Payload=b"", **_):
        if InvocationType != "RequestResponse":
            raise ValueError(f"only synchronous invokes are served here, not {InvocationType}")
        handler = self.functions[FunctionName]
        response = {"StatusCode": 200, "ExecutedVersion": "live"}
        try:
            result = handler(json.loads(Payload), None)
        except Exception as exc:  # what the Lambda runtime reports for an unhandled error
            logger.exception("function %s failed", FunctionName)
            result = {"errorMessage": str(exc), "errorType": type(exc).__name__,
                      "stackTrace": []}
            response["FunctionError"] = "Unhandled"
        response["Payload"] = io.BytesIO(json.dumps(result).encode())
        return response


class SageMakerStandIns:
    """moto's SageMaker client with CreateInferenceComponent served here and each training
    job's output written when it is created."""

    def __init__(self, client, training_output=None):
        self._client = client
        self.training_output = training_output
        self.created: dict[str, dict] = {}

    def create_training_job(self, **request) -> dict:
        response = self._client.create_training_job(**request)
        if self.training_output is not None:
            self.training_output(request["TrainingJobName"])
        return response

    def __getattr__(self, name):
        return getattr(self._client, name)

    def create_inference_component(self, **request) -> dict:
        from botocore.exceptions import ClientError
        from botocore.validate import validate_parameters

        operation = self._client.meta.service_model.operation_model("CreateInferenceComponent")
        validate_parameters(request, operation.input_shape)
        name = request["InferenceComponentName"]
        if name in self.created:
            raise ClientError({"Error": {
                "Code": "ValidationException",
                "Message": f"Cannot create already existing inference component {name}."}},
                "CreateInferenceComponent")
        self.created[name] = {**request, "InferenceComponentStatus": "InService"}
        return {"InferenceComponentArn": f"arn:aws:sagemaker:{self._client.meta.region_name}:"
                                         f"123456789012:inference-component/{name}"}
