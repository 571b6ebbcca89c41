"""Fixtures for the AWS adapter tests: moto-backed clients, created per test."""

import os

import pytest

boto3 = pytest.importorskip("boto3")
moto = pytest.importorskip("moto")

from noticebot.adapters.aws.dynamodb_items import TABLE_SCHEMA  # noqa: E402

REGION = "us-east-1"


@pytest.fixture
def aws():
    """Every boto3 call inside the test goes to moto's in-memory backends."""
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    with moto.mock_aws():
        yield


@pytest.fixture
def ddb(aws):
    client = boto3.client("dynamodb", region_name=REGION)
    client.create_table(TableName="noticebot-test", **TABLE_SCHEMA)
    client.update_time_to_live(TableName="noticebot-test", TimeToLiveSpecification={
        "Enabled": True, "AttributeName": "ttl"})
    return client


@pytest.fixture
def s3(aws):
    client = boto3.client("s3", region_name=REGION)
    client.create_bucket(Bucket="noticebot-docs")
    return client
