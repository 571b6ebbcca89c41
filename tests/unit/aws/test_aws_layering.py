"""The design rules the AWS work must keep: domain and services import no AWS SDK, and the
Lambda package never imports langchain-aws (the notebook client package does)."""

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[3] / "lambdas" / "noticebot"
SDK = re.compile(r"^\s*(?:import|from)\s+(boto3|botocore|opensearchpy|moto)\b", re.M)


def sources(*parts):
    return sorted((PACKAGE.joinpath(*parts)).rglob("*.py"))


def test_domain_services_and_ports_import_no_aws_sdk():
    offenders = [str(p.relative_to(PACKAGE)) for part in ("domain", "services", "ports")
                 for p in sources(part) if SDK.search(p.read_text())]
    assert offenders == []


def test_only_the_aws_adapters_import_the_sdk():
    allowed = {PACKAGE / "adapters" / "aws"}
    offenders = [str(p.relative_to(PACKAGE)) for p in sources()
                 if SDK.search(p.read_text()) and not any(a in p.parents for a in allowed)]
    assert offenders == []


def test_langchain_aws_stays_out_of_the_lambda_package():
    assert [p for p in sources() if "langchain_aws" in p.read_text()] == []


def test_aws_modules_stay_small():
    big = {str(p.relative_to(PACKAGE)): n for p in sources("adapters", "aws")
           if (n := len(p.read_text().splitlines())) >= 300}
    assert big == {}
