#!/usr/bin/env python3
"""Before the first deploy of a stage: what the target account must already have, checked
read-only, with what to do about each gap.

    .venv/bin/python scripts/preflight.py --stage dev [--profile NAME] [--region REGION]

Reads the stage's settings from cdk.json (cdk/config.py, the same typed config the CDK app
uses) and, with the caller's credentials, checks:

    cdk bootstrap        the CDK bootstrap stack's version parameter exists in the region
    API logging role     API Gateway's account setting (only needed when the stack does not
                         create it: api.account_logging_role false)
    GPU quotas           Service Quotas for the endpoint instance type (endpoint usage, at
                         least model.max_instances) and the training type (spot or on-demand
                         training job usage, at least 1); new accounts often have 0
    inference components the region offers SageMaker inference components
    model weights        model.weights_s3_uri holds a config.json and safetensors (gated
                         models cannot be downloaded by the endpoint or the training jobs)
    images               the serving (LMI) and training images exist and this account may pull
    sign-in domain       the Cognito hosted UI domain prefix is free (or already this stage's)
    pipeline source      the CodeConnections connection exists and is AVAILABLE (approved)

Every call is a read (Get/List/Describe/BatchGetImage); nothing is created. Without
credentials it says which it needs and exits 2; any failed check exits 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "lambdas"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from cdk.config import StageConfig, config_from_dict  # noqa: E402

OK, FAIL, WARN, SKIP = "ok", "FAIL", "warn", "skip"
BOOTSTRAP_QUALIFIER = "hnb659fds"
MIN_BOOTSTRAP_VERSION = 21  # what the pinned CDK CLI's assets and lookups need
# What the script calls, for a read-only policy an operator may attach to run it.
READ_ONLY_ACTIONS = (
    "sts:GetCallerIdentity", "ssm:GetParameter", "apigateway:GET",
    "servicequotas:ListServiceQuotas", "sagemaker:ListInferenceComponents",
    "s3:ListBucket", "ecr:BatchGetImage", "cognito-idp:DescribeUserPoolDomain",
    "cognito-idp:ListUserPools", "codeconnections:GetConnection",
    "codeconnections:ListConnections",
)


@dataclass
class Check:
    name: str
    status: str
    detail: str
    todo: str = ""


def _code(exc: Exception) -> str:
    return str((getattr(exc, "response", None) or {}).get("Error", {}).get("Code", ""))


def _denied(exc: Exception) -> bool:
    return _code(exc) in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
                          "403")


# ---- the checks ---------------------------------------------------------------------------------
def check_bootstrap(session, region: str) -> Check:
    name = f"/cdk-bootstrap/{BOOTSTRAP_QUALIFIER}/version"
    try:
        value = session.client("ssm", region_name=region).get_parameter(Name=name)
    except Exception as exc:
        if _code(exc) == "ParameterNotFound":
            return Check("cdk bootstrap", FAIL, f"{name} not found in {region}",
                         f"npx cdk bootstrap aws://ACCOUNT/{region}")
        return Check("cdk bootstrap", WARN, f"could not read {name}: {_code(exc) or exc}",
                     "run with a role that may ssm:GetParameter, or check by hand")
    version = int(value["Parameter"]["Value"])
    if version < MIN_BOOTSTRAP_VERSION:
        return Check("cdk bootstrap", FAIL, f"bootstrap version {version}",
                     f"npx cdk bootstrap aws://ACCOUNT/{region} (needs >= {MIN_BOOTSTRAP_VERSION})")
    return Check("cdk bootstrap", OK, f"version {version}")


def check_api_logging_role(session, stage: StageConfig) -> Check:
    if stage.api.account_logging_role:
        return Check("API logging role", OK, "the stack creates and sets it "
                     "(api.account_logging_role)")
    try:
        account = session.client("apigateway", region_name=stage.region).get_account()
    except Exception as exc:
        return Check("API logging role", WARN, f"could not read: {_code(exc) or exc}",
                     "check API Gateway > Settings > CloudWatch log role ARN by hand")
    if account.get("cloudwatchRoleArn"):
        return Check("API logging role", OK, account["cloudwatchRoleArn"])
    return Check("API logging role", FAIL, "API Gateway has no CloudWatch role in this "
                 "account and region: the stage's access logs would fail its deploy",
                 "set api.account_logging_role true in cdk.json, or set the role in API "
                 "Gateway > Settings")


def _quotas(session, region: str) -> dict[str, tuple[float, str]]:
    client = session.client("service-quotas", region_name=region)
    found: dict[str, tuple[float, str]] = {}
    for page in client.get_paginator("list_service_quotas").paginate(ServiceCode="sagemaker"):
        for quota in page["Quotas"]:
            found[quota["QuotaName"]] = (float(quota["Value"]), quota["QuotaCode"])
    return found


def check_quotas(session, stage: StageConfig) -> list[Check]:
    m, t = stage.model, stage.training
    wanted = [(f"{m.instance_type} for endpoint usage", m.max_instances, "model.instance_type"),
              (f"{t.instance_type} for {'spot ' if t.spot else ''}training job usage", 1,
               "training.instance_type")]
    try:
        quotas = _quotas(session, stage.region)
    except Exception as exc:
        return [Check(f"quota: {q}", WARN, f"could not list quotas: {_code(exc) or exc}",
                      "check Service Quotas > Amazon SageMaker by hand") for q, _, _ in wanted]
    out = []
    for quota, need, setting in wanted:
        if quota not in quotas:
            out.append(Check(f"quota: {quota}", FAIL, "no such quota in this region "
                             "(the instance type is not offered here)",
                             f"pick another {setting} in cdk.json"))
            continue
        value, code = quotas[quota]
        if value < need:
            out.append(Check(f"quota: {quota}", FAIL, f"{value:g} (needs {need})",
                             f"request an increase: Service Quotas > Amazon SageMaker > "
                             f"{code}, or choose an instance type with quota ({setting})"))
        else:
            out.append(Check(f"quota: {quota}", OK, f"{value:g} (needs {need})"))
    return out


def check_inference_components(session, stage: StageConfig) -> Check:
    try:
        session.client("sagemaker", region_name=stage.region).list_inference_components(
            MaxResults=1)
    except Exception as exc:
        if _denied(exc):
            return Check("inference components", WARN, "not allowed to list them",
                         "check by hand that the region offers inference components")
        return Check("inference components", FAIL,
                     f"{stage.region} does not answer ListInferenceComponents "
                     f"({_code(exc) or exc})", "deploy the stage to a region that offers "
                     "SageMaker inference components")
    return Check("inference components", OK, f"offered in {stage.region}")


def check_weights(session, stage: StageConfig, account: str) -> Check:
    uri = stage.model.weights_uri(account=account, region=stage.region)
    if not uri:
        return Check("model weights", OK, f"{stage.model.model_id} from the hub (not gated)")
    bucket, _, prefix = uri[len("s3://"):].partition("/")
    try:
        listed = session.client("s3", region_name=stage.region).list_objects_v2(
            Bucket=bucket, Prefix=prefix, MaxKeys=1000)
    except Exception as exc:
        return Check("model weights", FAIL, f"{uri}: {_code(exc) or exc}",
                     "stage the weights (cdk/README.md, 'Stage the model weights') or fix "
                     "model.weights_s3_uri")
    names = [o["Key"][len(prefix):] for o in listed.get("Contents", [])]
    missing = [what for what, ok in (
        ("config.json", "config.json" in names),
        ("*.safetensors", any(n.endswith(".safetensors") for n in names)),
        ("tokenizer.json", "tokenizer.json" in names)) if not ok]
    if missing:
        return Check("model weights", FAIL, f"{uri} lacks {', '.join(missing)}",
                     "copy the whole Hugging Face-format model folder there")
    return Check("model weights", OK, f"{uri} ({len(names)} files)")


def check_image(session, name: str, uri: str) -> Check:
    host, _, rest = uri.partition("/")
    registry, region = host.split(".")[0], host.split(".")[3]
    repository, _, tag = rest.rpartition(":")
    try:
        found = session.client("ecr", region_name=region).batch_get_image(
            registryId=registry, repositoryName=repository, imageIds=[{"imageTag": tag}],
            acceptedMediaTypes=["application/vnd.docker.distribution.manifest.v2+json",
                                "application/vnd.oci.image.manifest.v1+json"])
    except Exception as exc:
        return Check(name, FAIL, f"{uri}: {_code(exc) or exc}",
                     "check the image URI and that this account may pull it")
    if found.get("failures") or not found.get("images"):
        reason = (found.get("failures") or [{}])[0].get("failureReason", "not found")
        return Check(name, FAIL, f"{uri}: {reason}", "choose an existing tag (cdk.json)")
    return Check(name, OK, uri)


def check_domain(session, stage: StageConfig, account: str) -> Check:
    prefix = stage.auth.domain_prefix or f"{stage.prefix}-{account}"
    client = session.client("cognito-idp", region_name=stage.region)
    try:
        described = client.describe_user_pool_domain(Domain=prefix)["DomainDescription"]
    except Exception as exc:
        return Check("sign-in domain", WARN, f"{prefix}: {_code(exc) or exc}",
                     "check the prefix in the Cognito console")
    pool = described.get("UserPoolId")
    if not pool:
        return Check("sign-in domain", OK, f"{prefix} is free")
    pools = {p["Id"]: p["Name"] for p in client.list_user_pools(MaxResults=60)["UserPools"]}
    if pools.get(pool) == f"{stage.prefix}-users":
        return Check("sign-in domain", OK, f"{prefix} is this stage's ({pool})")
    return Check("sign-in domain", FAIL, f"{prefix} belongs to another user pool ({pool})",
                 "set auth.domain_prefix to a free prefix in cdk.json")


def check_connection(session, config, region: str) -> Check:
    p = config.pipeline
    client = session.client("codeconnections", region_name=p.region or region)
    try:
        if p.connection_arn:
            connection = client.get_connection(ConnectionArn=p.connection_arn)["Connection"]
        else:
            name = f"{config.project}-source"
            found = [c for c in client.list_connections()["Connections"]
                     if c["ConnectionName"] == name]
            if not found:
                return Check("pipeline source", OK, "the pipeline stack creates its connection",
                             "after `cdk deploy noticebot-pipeline`, approve it: Developer "
                             "Tools > Settings > Connections > Update pending connection")
            connection = found[0]
    except Exception as exc:
        return Check("pipeline source", FAIL, f"{p.connection_arn or 'connection'}: "
                     f"{_code(exc) or exc}", "check pipeline.connection_arn (region, account)")
    status = connection["ConnectionStatus"]
    if status != "AVAILABLE":
        return Check("pipeline source", FAIL, f"{connection['ConnectionArn']} is {status}",
                     "approve it: Developer Tools > Settings > Connections > Update pending "
                     "connection (installs the provider's app on the repository)")
    return Check("pipeline source", OK, f"{connection['ConnectionArn']} is AVAILABLE")


def run(session, config, stage_name: str) -> list[Check]:
    from cdk import images

    stage = config.stage(stage_name)
    account = session.client("sts", region_name=stage.region).get_caller_identity()["Account"]
    if stage.account and stage.account != account:
        return [Check("account", FAIL, f"credentials are for {account}, the stage is for "
                      f"{stage.account}", "use the stage account's credentials")]
    serving = stage.model.image_uri or images.image_uri(stage.model.container,
                                                        stage.model.image_tag, stage.region)
    checks = [Check("account", OK, account), check_bootstrap(session, stage.region),
              check_api_logging_role(session, stage), *check_quotas(session, stage),
              check_inference_components(session, stage),
              check_weights(session, stage, account),
              check_image(session, "serving image", serving),
              check_image(session, "training image",
                          images.training_image_uri(stage.training, stage.region)),
              check_domain(session, stage, account),
              check_connection(session, config, stage.region)]
    return checks


def table(checks: list[Check]) -> str:
    rows = [("check", "", "detail", "what to do")] + [
        (c.name, c.status, c.detail, c.todo) for c in checks]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}"
                     .rstrip() for r in rows)


def main(argv: list[str] | None = None, session=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--stage", required=True)
    ap.add_argument("--profile", help="an AWS CLI profile (default: the environment's)")
    ap.add_argument("--region", help="override the stage's region")
    args = ap.parse_args(argv)
    raw = json.loads((ROOT / "cdk.json").read_text())["context"]["noticebot"]
    if args.region:
        raw["stages"][args.stage]["region"] = args.region
    config = config_from_dict(raw)
    if session is None:
        import boto3

        session = boto3.session.Session(profile_name=args.profile)
    if session.get_credentials() is None:
        print("preflight needs credentials of the target account: AWS_PROFILE (or --profile), "
              "or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN), with these "
              "read-only actions:\n  " + "\n  ".join(READ_ONLY_ACTIONS), file=sys.stderr)
        return 2
    checks = run(session, config, args.stage)
    print(table(checks))
    failed = [c for c in checks if c.status == FAIL]
    print(f"\n{len(checks) - len(failed)} ok or warned, {len(failed)} to fix before "
          f"`cdk deploy` of {args.stage}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
