"""The dry run's stand-ins: the Cognito authorizer, the function routes, the SageMaker and
Lambda stand-ins, the training event."""

import io
import json
import tarfile
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from noticebot.domain.errors import Unauthorized
from noticebot.handlers.api.identity import issued_at, principal_from_claims
from smoke import training_events
from smoke.api_gateway import CognitoAuthorizer, FunctionRoutes
from smoke.stand_ins import InProcessLambda, SageMakerStandIns

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_pool"
FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "events" / \
    "eventbridge_sagemaker_training_completed.json"


@pytest.fixture(scope="module")
def key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def token(key, **claims):
    now = int(time.time())
    body = {"iss": ISSUER, "sub": "u-1", "token_use": "id", "iat": now, "exp": now + 60,
            "custom:workspace": "riverside", "cognito:groups": ["editors"], **claims}
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": "k1"})


def authorizer(key):
    verifier = CognitoAuthorizer(ISSUER, "http://127.0.0.1:1/unused")
    verifier._keys = {"k1": key.public_key()}  # the JWKS, already fetched
    return verifier


def test_a_pool_id_token_passes_with_claims_as_the_rest_authorizer_gives_them(key):
    claims = authorizer(key).verify(token(key))
    assert all(isinstance(v, str) for v in claims.values())
    principal = principal_from_claims(claims)
    assert (principal.user_id, principal.workspace_id, principal.is_editor) == (
        "u-1", "riverside", True)
    assert abs(issued_at(claims) - time.time()) < 5


@pytest.mark.parametrize("change, why", [
    ({"iss": "https://cognito-idp.us-east-1.amazonaws.com/other"}, "Invalid issuer"),
    ({"token_use": "access"}, "ID tokens"),
    ({"exp": 1}, "expired"),
])
def test_other_pools_access_tokens_and_expired_tokens_are_refused(key, change, why):
    with pytest.raises(Unauthorized, match=why):
        authorizer(key).verify(token(key, **change))


def test_a_token_signed_by_another_key_is_refused(key):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(Unauthorized, match="Signature verification failed"):
        authorizer(key).verify(token(other))


def test_chat_goes_to_the_chat_function_and_the_rest_to_the_api_function():
    routes = FunctionRoutes(lambda e, c: "api", lambda e, c: "chat")
    assert routes({"httpMethod": "POST", "path": "/api/chat"}) == "chat"
    assert routes({"httpMethod": "GET", "path": "/api/chat"}) == "api"
    assert routes({"httpMethod": "POST", "path": "/api/search"}) == "api"


@pytest.fixture
def sagemaker():
    import boto3

    return SageMakerStandIns(boto3.client("sagemaker", region_name="us-east-1"))


def test_an_inference_component_request_is_checked_against_the_real_api(sagemaker):
    from botocore.exceptions import ParamValidationError

    with pytest.raises(ParamValidationError, match="EndpointName"):
        sagemaker.create_inference_component(InferenceComponentName="a", Specification={})
    request = {"InferenceComponentName": "noticebot-llm-ft-1", "EndpointName": "noticebot-llm",
               "Specification": {"BaseInferenceComponentName": "base",
                                 "Container": {"ArtifactUrl": "s3://b/k/model.tar.gz"}}}
    assert sagemaker.create_inference_component(**request)["InferenceComponentArn"].endswith(
        "inference-component/noticebot-llm-ft-1")
    assert sagemaker.created["noticebot-llm-ft-1"]["InferenceComponentStatus"] == "InService"


def test_a_second_create_fails_as_sagemakers_and_the_registry_takes_it_as_done(sagemaker):
    from noticebot.adapters.aws.sagemaker_registry import SageMakerModelRegistry
    from noticebot.domain.tuning import ModelVersion

    registry = SageMakerModelRegistry(sagemaker, bucket="b", group_name="g",
                                      endpoint_name="noticebot-llm", base_component="base")
    version = ModelVersion(workspace_id="w", model_id="ft-1", job_id="j", name="Fine-tune 1",
                           base_model="m", artifact_uri="s3://b/model.tar.gz")
    assert registry.deploy(version) == registry.deploy(version) == "noticebot-llm-ft-1"
    assert list(sagemaker.created) == ["noticebot-llm-ft-1"]


def test_a_function_error_comes_back_as_lambda_reports_it():
    def broken(event, context):
        raise RuntimeError("model files missing")

    lambdas = InProcessLambda({"embed": broken, "echo": lambda e, c: {"got": e}})
    ok = lambdas.invoke(FunctionName="echo", Payload=json.dumps({"kind": "query"}))
    assert json.loads(ok["Payload"].read()) == {"got": {"kind": "query"}}
    failed = lambdas.invoke(FunctionName="embed", Payload=b"{}")
    assert failed["FunctionError"] == "Unhandled"
    assert json.loads(failed["Payload"].read())["errorMessage"] == "model files missing"


def test_the_training_event_has_the_recorded_shape_and_the_deploy_handler_reads_it():
    from datetime import datetime, timezone

    from noticebot.handlers.deploy import parse_training_event

    recorded = json.loads(FIXTURE.read_text())
    described = {k: v for k, v in recorded["detail"].items() if k != "Tags"}
    described["CreationTime"] = datetime(2026, 11, 25, 13, 30, tzinfo=timezone.utc)
    event = training_events.state_change_event(
        described, [{"Key": "noticebot:workspace", "Value": "riverside"},
                    {"Key": "noticebot:job", "Value": "0f3c2d9a8b7e4f6a9c1d2e3f4a5b6c7d"}],
        account="123456789012", region="us-east-1")
    assert set(event) == set(recorded) and set(event["detail"]) == set(recorded["detail"])
    assert event["detail"]["CreationTime"] == 1795613400000
    outcome = parse_training_event(event, "noticebot-dev-ft-")
    assert (outcome.workspace_id, outcome.job_id, outcome.state.status) == (
        "riverside", "0f3c2d9a8b7e4f6a9c1d2e3f4a5b6c7d", "Completed")


def test_the_adapter_artifact_carries_the_losses_the_deploy_function_reads():
    with tarfile.open(fileobj=io.BytesIO(training_events.adapter_artifact()), mode="r:gz") as t:
        metrics = json.loads(t.extractfile("metrics.json").read())
    assert metrics["eval_loss"] < metrics["base_eval_loss"]
