#!/usr/bin/env python3
"""The monthly cost of a stage when nobody uses it, read from its synthesized template.

    .venv/bin/python cost/idle_cost.py                 # dev stage (synthesized here, ~10 s)
    .venv/bin/python cost/idle_cost.py --stage prod
    .venv/bin/python cost/idle_cost.py --template cdk.out/assembly-noticebot-pipeline-dev/*.json

Prices come from cost/prices.json (us-east-1 list prices; the file says when they were taken).
"Idle" means: resources that bill by the hour or month with no traffic (OpenSearch nodes and
storage, OpenSearch Serverless minimum OCUs, SageMaker instances at their scaling minimum, NAT
gateways, interface endpoints, KMS keys, alarms, dashboards, WAF). Pay-per-request services
(API Gateway, Lambda, SQS, SNS, EventBridge, DynamoDB on demand, Cognito under its free MAUs) cost
nothing at idle and are listed as such; storage (S3, DynamoDB, logs) grows with data and is not
counted. A resource type the script does not know is reported, never silently priced at zero.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRICES = Path(__file__).resolve().parent / "prices.json"

# Billed per request / per use / per GB stored: nothing at idle.
USAGE_PRICED = {
    "AWS::ApiGateway::RestApi", "AWS::ApiGateway::Stage", "AWS::ApiGateway::Deployment",
    "AWS::ApiGateway::Resource", "AWS::ApiGateway::Method", "AWS::ApiGateway::Authorizer",
    "AWS::ApiGateway::RequestValidator", "AWS::ApiGateway::GatewayResponse",
    "AWS::Lambda::Function", "AWS::Lambda::Permission", "AWS::Lambda::EventSourceMapping",
    "AWS::Lambda::EventInvokeConfig", "AWS::Lambda::Version",
    "AWS::SQS::Queue", "AWS::SQS::QueuePolicy", "AWS::SNS::Topic", "AWS::SNS::TopicPolicy",
    "AWS::SNS::Subscription", "AWS::Events::Rule", "AWS::S3::Bucket", "AWS::S3::BucketPolicy",
    "AWS::DynamoDB::GlobalTable", "AWS::DynamoDB::Table", "AWS::Logs::LogGroup",
    "AWS::Logs::ResourcePolicy", "AWS::IAM::Role", "AWS::IAM::Policy", "AWS::KMS::Alias",
    "AWS::Cognito::UserPool", "AWS::Cognito::UserPoolClient", "AWS::Cognito::UserPoolGroup",
    # The hosted sign-in domain (billed per MAU with the pool) and the account's API Gateway
    # logging-role setting: no charge of their own.
    "AWS::Cognito::UserPoolDomain", "AWS::ApiGateway::Account",
    "AWS::SageMaker::Model", "AWS::SageMaker::Endpoint", "AWS::SageMaker::InferenceComponent",
    "AWS::SageMaker::ModelPackageGroup", "AWS::ApplicationAutoScaling::ScalableTarget",
    "AWS::ApplicationAutoScaling::ScalingPolicy", "AWS::OpenSearchServerless::SecurityPolicy",
    "AWS::OpenSearchServerless::AccessPolicy", "AWS::WAFv2::WebACLAssociation",
    "AWS::CDK::Metadata", "AWS::CloudFormation::WaitConditionHandle",
}


class UnknownPrice(KeyError):
    pass


@dataclass
class Line:
    item: str
    detail: str
    monthly: float


def _price(table: dict, key: str, what: str) -> float:
    if key not in table:
        raise UnknownPrice(f"no {what} price for {key!r} in {PRICES.name}; add it")
    return table[key]


def idle_lines(template: dict, prices: dict) -> tuple[list[Line], list[str], list[str]]:
    """(priced lines, usage-priced resource types present, unknown resource types)."""
    hours = prices["hours_per_month"]
    lines: list[Line] = []
    usage, unknown = set(), set()
    for rid, res in template.get("Resources", {}).items():
        kind, p = res["Type"], res.get("Properties", {})
        if kind == "AWS::OpenSearchService::Domain":
            c = p["ClusterConfig"]
            n, itype = c.get("InstanceCount", 1), c["InstanceType"]
            rate = _price(prices["opensearch_instance_hour"], itype, "OpenSearch instance")
            lines.append(Line("OpenSearch data nodes", f"{n} x {itype}", n * rate * hours))
            if c.get("DedicatedMasterEnabled"):
                m, mtype = c.get("DedicatedMasterCount", 3), c["DedicatedMasterType"]
                mrate = _price(prices["opensearch_instance_hour"], mtype, "OpenSearch instance")
                lines.append(Line("OpenSearch dedicated masters", f"{m} x {mtype}",
                                  m * mrate * hours))
            ebs = p.get("EBSOptions", {})
            if ebs.get("EBSEnabled"):
                gb = ebs.get("VolumeSize", 10) * n
                lines.append(Line("OpenSearch storage (gp3)", f"{gb} GB",
                                  gb * prices["opensearch_gp3_gb_month"]))
        elif kind == "AWS::OpenSearchServerless::Collection":
            standby = p.get("StandbyReplicas", "ENABLED") == "ENABLED"
            ocu = prices["opensearch_serverless_min_ocu"][
                "standby_enabled" if standby else "standby_disabled"]
            lines.append(Line("OpenSearch Serverless minimum OCUs",
                              f"{ocu:g} OCU ({'with' if standby else 'no'} standby replicas; "
                              "shared by collections using the same key)",
                              ocu * prices["opensearch_serverless_ocu_hour"] * hours))
        elif kind == "AWS::SageMaker::EndpointConfig":
            for v in p.get("ProductionVariants", []):
                itype = v["InstanceType"]
                scaling = v.get("ManagedInstanceScaling", {})
                if scaling.get("Status") == "ENABLED":
                    n = scaling.get("MinInstanceCount", v.get("InitialInstanceCount", 1))
                    why = "managed scaling minimum"
                else:
                    n, why = v.get("InitialInstanceCount", 1), "instance count"
                rate = _price(prices["sagemaker_hosting_instance_hour"], itype,
                              "SageMaker hosting")
                detail = f"{n} x {itype} ({why})"
                if n == 0:
                    detail += f"; {rate:.3f} $/h while a copy runs"
                lines.append(Line("SageMaker endpoint instances", detail, n * rate * hours))
        elif kind == "AWS::Lambda::Alias":
            pc = p.get("ProvisionedConcurrencyConfig", {}).get("ProvisionedConcurrentExecutions", 0)
            if not pc:
                usage.add(kind)
                continue
            gb = _function_memory_mb(template, p["FunctionName"]) / 1024
            lines.append(Line("Lambda provisioned concurrency",
                              f"{pc} x {gb * 1024:.0f} MB ({p.get('Name', rid)} alias)",
                              pc * gb * 3600 * hours * prices["lambda_provisioned_gb_second"]))
        elif kind == "AWS::EC2::NatGateway":
            lines.append(Line("NAT gateway", rid, prices["nat_gateway_hour"] * hours))
        elif kind == "AWS::EC2::VPCEndpoint":
            if p.get("VpcEndpointType", "Gateway") == "Interface":
                azs = max(1, len(p.get("SubnetIds", [])))
                lines.append(Line("VPC interface endpoint", f"{rid} in {azs} AZ",
                                  azs * prices["vpc_interface_endpoint_az_hour"] * hours))
        elif kind == "AWS::KMS::Key":
            lines.append(Line("KMS key", rid, prices["kms_key_month"]))
        elif kind == "AWS::CloudWatch::Alarm":
            metrics = sum(1 for m in p.get("Metrics", []) if "MetricStat" in m) or 1
            lines.append(Line("CloudWatch alarm", p.get("AlarmName", rid),
                              metrics * prices["cloudwatch_alarm_metric_month"]))
        elif kind == "AWS::CloudWatch::Dashboard":
            lines.append(Line("CloudWatch dashboard", p.get("DashboardName", rid),
                              prices["cloudwatch_dashboard_month"]))
        elif kind == "AWS::WAFv2::WebACL":
            rules = len(p.get("Rules", []))
            lines.append(Line("WAF web ACL", f"1 ACL + {rules} rules",
                              prices["waf_web_acl_month"] + rules * prices["waf_rule_month"]))
        elif kind == "AWS::SecretsManager::Secret":
            lines.append(Line("Secrets Manager secret", rid,
                              prices["secrets_manager_secret_month"]))
        elif kind in USAGE_PRICED:
            usage.add(kind)
        else:
            unknown.add(kind)
    return lines, sorted(usage), sorted(unknown)


def _function_memory_mb(template: dict, ref) -> float:
    """MemorySize of the function an alias names ({"Ref": id}); Lambda's default is 128 MB."""
    rid = ref.get("Ref") if isinstance(ref, dict) else None
    function = template.get("Resources", {}).get(rid or "", {})
    if function.get("Type") != "AWS::Lambda::Function":
        raise UnknownPrice(f"cannot find the function of alias target {ref!r}")
    return float(function["Properties"].get("MemorySize", 128))


def report(template: dict, prices: dict, title: str) -> str:
    lines, usage, unknown = idle_lines(template, prices)
    grouped: dict[str, list[Line]] = {}
    for line in lines:
        grouped.setdefault(line.item, []).append(line)
    out = [f"Idle monthly cost of {title} ({prices['region']} list prices of {prices['as_of']}, "
           f"{prices['hours_per_month']} h/month)", ""]
    width = 38
    for item, group in grouped.items():
        total = sum(x.monthly for x in group)
        detail = group[0].detail if len(group) == 1 else f"{len(group)} x"
        out.append(f"  {item:<{width}} {total:>9.2f} USD   {detail}")
    total = sum(x.monthly for x in lines)
    out += ["  " + "-" * (width + 14), f"  {'TOTAL at idle':<{width}} {total:>9.2f} USD / month", ""]
    out.append("  $0 at idle (pay per request / per GB): " + ", ".join(
        sorted({u.split("::")[1] for u in usage})))
    if unknown:
        out.append("  NOT PRICED (unknown resource types, add them to cost/idle_cost.py): "
                   + ", ".join(unknown))
    return "\n".join(out)


def synthesize_stage(stage: str) -> dict:
    """Synthesizes one stage in-process (placeholder Lambda code, no cdk-nag) -> its template."""
    import os
    import tempfile

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    import aws_cdk as cdk

    import app as app_module

    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    context.update({"stage": stage, "noticebot:lambda-assets": "placeholder",
                    "noticebot:nag": "false"})
    app = cdk.App(context=context, outdir=tempfile.mkdtemp(prefix="noticebot-cost-"))
    app_module.build(app)
    project = context["noticebot"].get("project", "noticebot")
    assembly = app.synth().get_nested_assembly(f"assembly-{project}-{stage}")
    return assembly.get_stack_by_name(f"{project}-{stage}-app").template


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--stage", default="dev")
    ap.add_argument("--template", type=Path, help="a synthesized template instead of a synth")
    args = ap.parse_args(argv)
    prices = json.loads(PRICES.read_text())
    if args.template:
        template, title = json.loads(args.template.read_text()), str(args.template)
    else:
        template, title = synthesize_stage(args.stage), f"stage {args.stage}"
    try:
        print(report(template, prices, title))
    except UnknownPrice as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
