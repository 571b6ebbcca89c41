"""scripts/preflight.py: what a new account lacks before the first deploy, found read-only.

Each AWS call goes through a real botocore client with a Stubber, so the requests the script
makes are checked against the service models; the answers are those of a fresh account (no
GPU quota, a pending connection, weights not staged) and of a ready one."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

ROOT = Path(__file__).resolve().parents[3]
spec = importlib.util.spec_from_file_location("noticebot_preflight",
                                              ROOT / "scripts" / "preflight.py")
preflight = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = preflight
spec.loader.exec_module(preflight)

ACCOUNT = "123456789012"
REGION = "us-east-1"
WEIGHTS_BUCKET = f"noticebot-weights-{ACCOUNT}-{REGION}"
WEIGHTS_PREFIX = "meta-llama/Meta-Llama-3-8B-Instruct/"
CONNECTION_ARN = (f"arn:aws:codeconnections:us-east-1:{ACCOUNT}:connection/"
                  "4f2b8c1e-9a7d-4e3b-8f61-2c5d9e0a7b34")


class Session:
    """A boto3 session whose clients are stubbed; ``expect`` queues answers per service."""

    def __init__(self, credentials=True):
        self._credentials = credentials
        self.clients: dict[str, object] = {}
        self.stubs: dict[str, Stubber] = {}

    def get_credentials(self):
        return object() if self._credentials else None

    def client(self, service, region_name=None):
        if service not in self.clients:
            client = boto3.client(service, region_name=region_name or REGION,
                                  aws_access_key_id="x", aws_secret_access_key="x")
            self.clients[service] = client
            self.stubs[service] = Stubber(client)
            self.stubs[service].activate()
        return self.clients[service]

    def expect(self, service, method, response=None, params=None, error=None):
        self.client(service)
        if error:
            self.stubs[service].add_client_error(method, service_error_code=error,
                                                 expected_params=params)
        else:
            self.stubs[service].add_response(method, response or {}, params)

    def done(self):
        for stub in self.stubs.values():
            stub.assert_no_pending_responses()


def config():
    from cdk.config import config_from_dict

    return config_from_dict(json.loads((ROOT / "cdk.json").read_text())["context"]["noticebot"])


def quotas(endpoint_value: float, spot_value: float) -> dict:
    return {"Quotas": [
        {"ServiceCode": "sagemaker", "QuotaCode": "L-AAAA1111",
         "QuotaName": "ml.g5.2xlarge for endpoint usage", "Value": endpoint_value},
        {"ServiceCode": "sagemaker", "QuotaCode": "L-BBBB2222",
         "QuotaName": "ml.g5.2xlarge for spot training job usage", "Value": spot_value}]}


def image(registry, repository, tag):
    return {"images": [{"registryId": registry, "repositoryName": repository,
                        "imageId": {"imageTag": tag}, "imageManifest": "{}"}], "failures": []}


def expect_account(session, *, quota=(0.0, 0.0), weights=(), connection=None, domain_pool=None):
    cfg = config().stage("dev")
    session.expect("sts", "get_caller_identity", {
        "Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/operator", "UserId": "u"})
    session.expect("ssm", "get_parameter", {"Parameter": {
        "Name": "/cdk-bootstrap/hnb659fds/version", "Value": "29", "Type": "String"}},
        {"Name": "/cdk-bootstrap/hnb659fds/version"})
    session.expect("service-quotas", "list_service_quotas", quotas(*quota),
                   {"ServiceCode": "sagemaker"})
    session.expect("sagemaker", "list_inference_components", {"InferenceComponents": []},
                   {"MaxResults": 1})
    session.expect("s3", "list_objects_v2", {"Contents": [
        {"Key": WEIGHTS_PREFIX + name} for name in weights], "KeyCount": len(weights)},
        {"Bucket": WEIGHTS_BUCKET, "Prefix": WEIGHTS_PREFIX, "MaxKeys": 1000})
    session.expect("ecr", "batch_get_image",
                   image("763104351884", "djl-inference", cfg.model.image_tag))
    session.expect("ecr", "batch_get_image",
                   image("763104351884", "pytorch-training", cfg.training.image_tag))
    domain = {"DomainDescription": {"UserPoolId": domain_pool} if domain_pool else {}}
    session.expect("cognito-idp", "describe_user_pool_domain", domain,
                   {"Domain": f"noticebot-dev-{ACCOUNT}"})
    if domain_pool:
        session.expect("cognito-idp", "list_user_pools", {"UserPools": [
            {"Id": domain_pool, "Name": "someone-elses-pool"}]}, {"MaxResults": 60})
    session.expect("codeconnections", "list_connections", {"Connections": connection or []})


def by_name(checks):
    return {c.name: c for c in checks}


def test_a_fresh_account_is_told_what_to_do_for_each_gap():
    session = Session()
    expect_account(session, quota=(0.0, 0.0), weights=(), domain_pool="us-east-1_other")
    checks = by_name(preflight.run(session, config(), "dev"))
    session.done()
    endpoint = checks["quota: ml.g5.2xlarge for endpoint usage"]
    assert endpoint.status == "FAIL" and "L-AAAA1111" in endpoint.todo
    assert checks["quota: ml.g5.2xlarge for spot training job usage"].status == "FAIL"
    assert checks["model weights"].status == "FAIL"
    assert checks["sign-in domain"].status == "FAIL" and "domain_prefix" in \
        checks["sign-in domain"].todo
    assert checks["pipeline source"].status == "ok"  # the stack will create it
    assert checks["API logging role"].status == "ok"  # the stack sets it
    text = preflight.table(list(checks.values()))
    assert "what to do" in text.splitlines()[0]


def test_a_ready_account_passes():
    session = Session()
    expect_account(session, quota=(1.0, 1.0),
                   weights=("config.json", "tokenizer.json", "model-00001-of-00004.safetensors"),
                   connection=[{"ConnectionName": "noticebot-source", "ConnectionArn":
                                CONNECTION_ARN,
                                "ProviderType": "GitHub", "OwnerAccountId": ACCOUNT,
                                "ConnectionStatus": "AVAILABLE"}])
    checks = preflight.run(session, config(), "dev")
    session.done()
    assert [c.name for c in checks if c.status != "ok"] == []


def test_a_pending_connection_is_a_failure_with_the_console_steps():
    session = Session()
    expect_account(session, quota=(1.0, 1.0),
                   weights=("config.json", "tokenizer.json", "model.safetensors"),
                   connection=[{"ConnectionName": "noticebot-source", "ConnectionArn":
                                CONNECTION_ARN,
                                "ProviderType": "GitHub", "OwnerAccountId": ACCOUNT,
                                "ConnectionStatus": "PENDING"}])
    check = by_name(preflight.run(session, config(), "dev"))["pipeline source"]
    assert check.status == "FAIL" and "Update pending connection" in check.todo


def test_an_account_without_the_api_gateway_role_when_the_stack_does_not_set_it():
    import dataclasses

    stage = config().stage("dev")
    stage = dataclasses.replace(stage, api=dataclasses.replace(stage.api,
                                                               account_logging_role=False))
    session = Session()
    session.expect("apigateway", "get_account", {})
    assert preflight.check_api_logging_role(session, stage).status == "FAIL"
    session.expect("apigateway", "get_account",
                   {"cloudwatchRoleArn": "arn:aws:iam::1:role/apigw-logs"})
    assert preflight.check_api_logging_role(session, stage).status == "ok"


def test_without_credentials_it_says_what_it_needs(capsys):
    assert preflight.main(["--stage", "dev"], session=Session(credentials=False)) == 2
    err = capsys.readouterr().err
    assert "AWS_PROFILE" in err and "servicequotas:ListServiceQuotas" in err


def test_every_call_is_a_read():
    for action in preflight.READ_ONLY_ACTIONS:
        verb = action.split(":")[1]
        assert verb.startswith(("Get", "List", "Describe", "BatchGet", "GET")), action


@pytest.mark.parametrize("missing", ["config.json", "model.safetensors"])
def test_incomplete_weights_name_what_is_missing(missing):
    session = Session()
    names = [n for n in ("config.json", "tokenizer.json", "model.safetensors") if n != missing]
    session.expect("s3", "list_objects_v2", {"Contents": [{"Key": WEIGHTS_PREFIX + n}
                                                          for n in names]})
    check = preflight.check_weights(session, config().stage("dev"), ACCOUNT)
    assert check.status == "FAIL"
    assert (missing if missing == "config.json" else "*.safetensors") in check.detail
