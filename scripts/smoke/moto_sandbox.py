"""What a dev stack provides that the functions touch, provisioned on moto.

One home for the moto provisioning: the aws-mode integration tests (in-process
``moto.mock_aws``) and the smoke dry run (moto's server on 127.0.0.1) both build their AWS
side here, through ordinary boto3 clients, so whichever moto answers them gets the same stack:

- the data bucket, its events sent to EventBridge, and the rule that selects uploads
  (``tenants/*/raw/*``) into the ingest queue, which has a dead-letter queue;
- the DynamoDB single table (``TABLE_SCHEMA``, TTL on ``ttl``);
- the SageMaker endpoint the base model is served from (moto's instance list predates ml.g5,
  hence ml.m5), and the adapters' model package group;
- the Cognito user pool (e-mail sign-in, ``custom:workspace``), its app client (SRP only, as
  the stack's) and the ``editors`` group.

``environment`` is what the CDK sets on the functions for these resources. ``SqsPoller`` plays
the SQS -> Lambda event source mapping (ReportBatchItemFailures): receive a batch, call the
ingest handler, delete what succeeded, leave the rest to come back.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
MAX_RECEIVES = 3
MOTO_API = "http://motoapi.amazonaws.com"  # in-process moto's control API; a server's is its URL


@dataclass(frozen=True)
class SandboxNames:
    bucket: str = "noticebot-docs-test"
    table: str = "noticebot"
    endpoint: str = "noticebot-llm"
    base_component: str = "llama3-base"
    ingest_queue: str = "noticebot-ingest"
    dead_letter_queue: str = "noticebot-ingest-dlq"
    uploads_rule: str = "noticebot-uploads"
    user_pool: str = "noticebot-users"
    editors_group: str = "editors"
    model_package_group: str = "noticebot-adapters"
    training_job_prefix: str = "noticebot-ft-"
    training_role_arn: str = f"arn:aws:iam::{ACCOUNT}:role/noticebot-training"
    # moto validates training instance types against a list older than ml.g5
    training_instance_type: str = "ml.m5.xlarge"
    base_model: str = "HuggingFaceTB/SmolLM2-135M-Instruct"


@dataclass(frozen=True)
class Sandbox:
    names: SandboxNames
    queue_url: str
    queue_arn: str
    dead_letter_url: str
    user_pool_id: str
    app_client_id: str


ClientFactory = Callable[[str], object]


def provision(client: ClientFactory, names: SandboxNames = SandboxNames()) -> Sandbox:
    """Creates the stack's resources through ``client(service)`` (boto3 clients)."""
    from noticebot.adapters.aws.dynamodb_items import TABLE_SCHEMA
    from noticebot.domain.keys import UPLOAD_KEYS

    s3, sqs, ddb, events = (client(s) for s in ("s3", "sqs", "dynamodb", "events"))
    s3.create_bucket(Bucket=names.bucket)
    ddb.create_table(TableName=names.table, **TABLE_SCHEMA)
    ddb.update_time_to_live(TableName=names.table, TimeToLiveSpecification={
        "Enabled": True, "AttributeName": "ttl"})
    dead_letter_url = sqs.create_queue(QueueName=names.dead_letter_queue)["QueueUrl"]
    queue_url = sqs.create_queue(QueueName=names.ingest_queue, Attributes={
        "VisibilityTimeout": "60",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": queue_arn(sqs, dead_letter_url),
                                     "maxReceiveCount": str(MAX_RECEIVES)}),
    })["QueueUrl"]
    # As the ingestion construct wires it: the bucket's events go to EventBridge, whose rule
    # sends uploads (tenants/*/raw/*, and nothing else under tenants/) to the queue.
    s3.put_bucket_notification_configuration(
        Bucket=names.bucket, NotificationConfiguration={"EventBridgeConfiguration": {}})
    events.put_rule(Name=names.uploads_rule, EventPattern=json.dumps({
        "source": ["aws.s3"], "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [names.bucket]},
                   "object": {"key": [{"wildcard": UPLOAD_KEYS}]}}}))
    events.put_targets(Rule=names.uploads_rule, Targets=[
        {"Id": "ingest-queue", "Arn": queue_arn(sqs, queue_url)}])
    _deploy_endpoint(client("sagemaker"), names)
    pool_id, client_id = _user_pool(client("cognito-idp"), names)
    return Sandbox(names=names, queue_url=queue_url, queue_arn=queue_arn(sqs, queue_url),
                   dead_letter_url=dead_letter_url, user_pool_id=pool_id,
                   app_client_id=client_id)


def queue_arn(sqs, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]


def _deploy_endpoint(sagemaker, names: SandboxNames) -> None:
    """What the models and training constructs deploy."""
    role = f"arn:aws:iam::{ACCOUNT}:role/noticebot-sagemaker"
    sagemaker.create_model(ModelName="llama3", ExecutionRoleArn=role, PrimaryContainer={
        "Image": f"763104351884.dkr.ecr.{REGION}.amazonaws.com/djl-inference:lmi"})
    sagemaker.create_endpoint_config(EndpointConfigName="llama3-config", ProductionVariants=[{
        "VariantName": "base", "ModelName": "llama3", "InstanceType": "ml.m5.xlarge",
        "InitialInstanceCount": 1}])
    sagemaker.create_endpoint(EndpointName=names.endpoint, EndpointConfigName="llama3-config")
    sagemaker.create_model_package_group(ModelPackageGroupName=names.model_package_group)


def _user_pool(cognito, names: SandboxNames) -> tuple[str, str]:
    """The api construct's pool: e-mail usernames, custom:workspace, the editors group, and
    the app's client (hosted UI code flow + SRP; no password flows)."""
    pool_id = cognito.create_user_pool(
        PoolName=names.user_pool, UsernameAttributes=["email"], AutoVerifiedAttributes=["email"],
        Schema=[{"Name": "workspace", "AttributeDataType": "String", "Mutable": True,
                 "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "128"}}],
    )["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id, ClientName="mobile", GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    cognito.create_group(UserPoolId=pool_id, GroupName=names.editors_group)
    return pool_id, client_id


def environment(sandbox: Sandbox) -> dict[str, str]:
    """The functions' environment for the sandbox's resources (what the CDK stack sets)."""
    n = sandbox.names
    return {
        "NOTICEBOT_MODE": "aws", "NOTICEBOT_BUCKET": n.bucket, "NOTICEBOT_TABLE": n.table,
        "NOTICEBOT_SEARCH_ENDPOINT": "https://unused.example (the local index stands in)",
        "NOTICEBOT_SEARCH_SERVICE": "es", "NOTICEBOT_CHAT_ENDPOINT": n.endpoint,
        "NOTICEBOT_CHAT_COMPONENT": n.base_component, "NOTICEBOT_MAX_UPLOAD_BYTES": "200000",
        "NOTICEBOT_PRESIGNED_MAX_BYTES": "5000000", "AWS_REGION": REGION,
        "NOTICEBOT_INGEST_MAX_RECEIVES": str(MAX_RECEIVES),
        "NOTICEBOT_USER_POOL_ID": sandbox.user_pool_id,
        "NOTICEBOT_TRAINING_ROLE_ARN": n.training_role_arn,
        "NOTICEBOT_TRAINING_JOB_PREFIX": n.training_job_prefix,
        "NOTICEBOT_TRAINING_INSTANCE_TYPE": n.training_instance_type,
        "NOTICEBOT_BASE_MODEL": n.base_model,
        "NOTICEBOT_MODEL_PACKAGE_GROUP": n.model_package_group,
    }


def queue_model_answers(*texts: str, moto_api: str = MOTO_API) -> None:
    """moto's endpoint-results API: the next InvokeEndpoint calls answer these, in order, in
    the TGI list form the LMI/TGI containers return."""
    import requests

    requests.post(f"{moto_api}/moto-api/static/sagemaker/endpoint-results", timeout=10,
                  json={"results": [{"Body": json.dumps([{"generated_text": t}]),
                                     "ContentType": "application/json"} for t in texts]})


def model_requests() -> list[dict]:
    """The InvokeEndpoint requests moto answered from the queue, in order (headers
    lower-cased, with ``body``). Read in process: moto's server runs in it too. Not per
    endpoint: moto's server files them under no endpoint name (it reads the name from the
    request's parameters, which the server's path-routed call leaves empty)."""
    from moto.sagemakerruntime.models import sagemakerruntime_backends

    backend = sagemakerruntime_backends[ACCOUNT][REGION]
    return [{k.lower(): v for k, v in json.loads(base64.b64decode(key)).items()}
            for results in backend.results.values() for key in results]


class SqsPoller:
    """The SQS -> Lambda event source mapping, with ReportBatchItemFailures."""

    def __init__(self, sqs, queue_url: str, queue_arn: str, container, region: str = REGION):
        self.sqs, self.url, self.arn, self.region = sqs, queue_url, queue_arn, region
        self.container = container  # the ingest function's

    def receive(self) -> list[dict]:
        return self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10,
                                        AttributeNames=["All"], VisibilityTimeout=0,
                                        ).get("Messages", [])

    def event(self, messages: list[dict]) -> dict:
        return {"Records": [{
            "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
            "attributes": m.get("Attributes", {}), "messageAttributes": {},
            "md5OfBody": hashlib.md5(m["Body"].encode(), usedforsecurity=False).hexdigest(),
            "eventSource": "aws:sqs", "eventSourceARN": self.arn, "awsRegion": self.region,
        } for m in messages]}

    def poll(self) -> tuple[list[dict], set[str]]:
        """One batch: (messages delivered, ids the handler reported as failed)."""
        from noticebot.handlers import ingest

        messages = self.receive()
        if not messages:
            return [], set()
        try:
            result = ingest.handle(self.event(messages), self.container)
            failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
        except Exception:  # the invocation failed (powertools raises when every record
            failed = {m["MessageId"] for m in messages}  # fails): the whole batch returns
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(QueueUrl=self.url, Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done)])
        return messages, failed

    def drain(self, rounds: int = 10) -> list[dict]:
        delivered = []
        for _ in range(rounds):
            messages, _ = self.poll()
            if not messages:
                break
            delivered += messages
        return delivered
