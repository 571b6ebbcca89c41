"""Storage (bucket, table, key) and ingestion (S3 -> SQS -> ingest Lambda), and the functions'
environment contract."""

from __future__ import annotations

import json
import re

import pytest
from cdk_testlib import only, resources
from noticebot.environment import POWERTOOLS_VARS, SETTINGS_VARS, EnvVar, PowertoolsEnv
from noticebot.functions import (
    API,
    DEPLOY,
    EMBED,
    FINE_TUNE_ENVIRONMENT,
    FUNCTIONS,
    LAMBDA_TASK_ROOT,
    LambdaFunction,
)

EXEC_WRAPPER = "AWS_LAMBDA_EXEC_WRAPPER"  # read by the Lambda runtime, not the package

API_HANDLER, DEPLOY_HANDLER = API.handler, DEPLOY.handler


def data_bucket(t):
    buckets = {k: v for k, v in resources(t, "AWS::S3::Bucket").items() if "StorageData" in k}
    assert len(buckets) == 1
    return next(iter(buckets.items()))


def functions(t) -> dict[str, dict]:
    """handler string -> function properties"""
    return {f["Properties"]["Handler"]: f["Properties"]
            for f in resources(t, "AWS::Lambda::Function").values()}


def test_data_bucket_is_private_encrypted_versioned_and_logged(dev):
    _, bucket = data_bucket(dev)
    props = bucket["Properties"]
    sse = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert sse["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]["Fn::GetAtt"][1] == "Arn"
    assert sse["BucketKeyEnabled"] is True
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True}
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["LoggingConfiguration"]["DestinationBucketName"]["Ref"].startswith(
        "StorageAccessLogs")
    rules = {r["Id"]: r for r in props["LifecycleConfiguration"]["Rules"]}
    assert rules["abort-incomplete-uploads"]["AbortIncompleteMultipartUpload"] == {
        "DaysAfterInitiation": 1}
    assert rules["expire-deleted-uploads"]["Prefix"] == "tenants/"
    assert rules["expire-deleted-uploads"]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
    assert rules["tier-raw-uploads"]["Transitions"][0]["StorageClass"] == "INTELLIGENT_TIERING"
    assert rules["tier-raw-uploads"]["ObjectSizeGreaterThan"] == "131072"
    assert rules["expire-textract-staging"]["Prefix"] == "textract-staging/"
    assert rules["expire-transcripts"]["Prefix"] == "transcripts/"
    assert all("ObjectSizeGreaterThan" not in r for k, r in rules.items() if k != "tier-raw-uploads")


def test_bucket_policies_refuse_plain_http_and_old_tls(dev):
    for policy in resources(dev, "AWS::S3::BucketPolicy").values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        denies = [s for s in statements if s["Effect"] == "Deny"]
        assert any(s["Condition"].get("Bool", {}).get("aws:SecureTransport") == "false"
                   for s in denies)
    data_policy = [p for k, p in resources(dev, "AWS::S3::BucketPolicy").items()
                   if "StorageData" in k][0]
    assert any("s3:TlsVersion" in str(s.get("Condition"))
               for s in data_policy["Properties"]["PolicyDocument"]["Statement"])


def test_table_keys_ttl_pitr_and_customer_key(dev, prod):
    _, table = only(dev, "AWS::DynamoDB::GlobalTable")
    p = table["Properties"]
    assert p["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"},
                              {"AttributeName": "sk", "KeyType": "RANGE"}]
    assert {a["AttributeName"]: a["AttributeType"] for a in p["AttributeDefinitions"]} == {
        "pk": "S", "sk": "S", "gsi1pk": "S", "gsi1sk": "S"}
    assert p["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert p["BillingMode"] == "PAY_PER_REQUEST"
    assert p["SSESpecification"]["SSEType"] == "KMS"
    replica = p["Replicas"][0]
    assert replica["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert "KMSMasterKeyId" in str(replica["SSESpecification"])
    # prod keeps its data: retained and deletion-protected
    _, prod_table = only(prod, "AWS::DynamoDB::GlobalTable")
    assert prod_table["DeletionPolicy"] == "Retain"
    assert prod_table["Properties"]["Replicas"][0]["DeletionProtectionEnabled"] is True
    _, key = only(dev, "AWS::KMS::Key")
    assert key["Properties"]["EnableKeyRotation"] is True


def test_table_matches_what_the_dynamodb_adapter_declares(dev):
    items = pytest.importorskip("noticebot.adapters.aws.dynamodb_items")
    schema = items.TABLE_SCHEMA
    _, table = only(dev, "AWS::DynamoDB::GlobalTable")
    p = table["Properties"]
    assert p["KeySchema"] == schema["KeySchema"]
    assert sorted(p["AttributeDefinitions"], key=str) == sorted(schema["AttributeDefinitions"],
                                                                key=str)
    declared = [{k: g[k] for k in ("IndexName", "KeySchema", "Projection")}
                for g in p["GlobalSecondaryIndexes"]]
    assert declared == schema["GlobalSecondaryIndexes"]
    assert p["BillingMode"] == schema["BillingMode"]
    assert p["TimeToLiveSpecification"]["AttributeName"] == items.TTL_ATTRIBUTE


def test_only_uploads_reach_the_ingest_queue(dev):
    """S3 notifications filter by a fixed prefix, and tenants/ also holds datasets, adapters and
    spot checkpoints; the bucket sends its events to EventBridge, where a rule matches upload
    keys only (tenants/*/raw/*) and delivers them to the queue."""
    bucket_id, bucket = data_bucket(dev)
    queue_id = [k for k in resources(dev, "AWS::SQS::Queue") if k.startswith("IngestionUploads")
                and "Created" not in k][0]
    notification = bucket["Properties"]["NotificationConfiguration"]
    assert notification == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    # No BucketNotifications custom resource (and no Lambda with s3:PutBucketNotification on *).
    assert not resources(dev, "Custom::S3BucketNotifications")
    (rule_id, rule), = [(k, v) for k, v in resources(dev, "AWS::Events::Rule").items()
                        if k.startswith("IngestionUploadCreated")]
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.s3"] and pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"]["object"] == {"key": [{"wildcard": "tenants/*/raw/*"}]}
    assert "noticebot-dev-data-" in json.dumps(pattern["detail"]["bucket"]["name"])
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    dlq_id = [k for k in resources(dev, "AWS::SQS::Queue")
              if k.startswith("IngestionDeadLetters")][0]
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dlq_id, "Arn"]}}
    # The queue admits this rule only: EventBridge, on behalf of this rule's ARN.
    policy = [v for k, v in resources(dev, "AWS::SQS::QueuePolicy").items()
              if {"Ref": queue_id} in v["Properties"]["Queues"]][0]
    senders = [s for s in policy["Properties"]["PolicyDocument"]["Statement"]
               if s["Effect"] == "Allow" and "sqs:SendMessage" in json.dumps(s["Action"])]
    assert senders and all(s["Principal"] == {"Service": "events.amazonaws.com"}
                           for s in senders)
    assert all(json.dumps(s["Condition"]).count(rule_id) == 1 for s in senders)


@pytest.mark.parametrize("key,matches", [
    ("tenants/ws1/raw/doc-1/notes.pdf", True),
    ("tenants/ws1/raw/doc-1/dir/with spaces.txt", True),
    ("tenants/ws1/datasets/job/train/train.jsonl", False),
    ("tenants/ws1/models/noticebot-dev-ft-1/output/model.tar.gz", False),
    ("tenants/ws1/models/noticebot-dev-ft-1/checkpoints/adapter_model.safetensors", False),
    ("textract-staging/x.pdf", False),
    ("transcripts/noticebot-dev-data-1-us-east-1-tx-doc.json", False),
])
def test_the_upload_pattern_selects_uploads_and_nothing_else(key, matches):
    """EventBridge's wildcard: * matches any characters, / included."""
    from noticebot.domain.keys import UPLOAD_KEYS, raw_key, workspace_of_raw_key

    regex = "^" + ".*".join(re.escape(part) for part in UPLOAD_KEYS.split("*")) + "$"
    assert bool(re.match(regex, key)) is matches
    assert (workspace_of_raw_key(key) is not None) is matches
    assert re.match(regex, raw_key("ws", "doc", "a.pdf"))


def test_queue_dead_letters_and_visibility_longer_than_the_function(dev, config):
    fn_cfg = config.stage("dev").functions
    queues = resources(dev, "AWS::SQS::Queue")
    uploads = [v for k, v in queues.items() if "Uploads" in k][0]["Properties"]
    dlq_id = [k for k in queues if k.startswith("IngestionDeadLetters")][0]
    assert uploads["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]}, "maxReceiveCount": 3}
    ingest = functions(dev)["noticebot.handlers.ingest.handler"]
    assert ingest["Timeout"] == fn_cfg.ingest_timeout_s
    assert uploads["VisibilityTimeout"] >= 6 * ingest["Timeout"]
    # The function fails a document on the queue's last delivery and leases each document for
    # exactly its own timeout: both settings must be the queue's and the function's.
    env = ingest["Environment"]["Variables"]
    assert env[EnvVar.INGEST_MAX_RECEIVES] == str(
        uploads["RedrivePolicy"]["maxReceiveCount"])
    assert env[EnvVar.INGEST_TIMEOUT_S] == str(ingest["Timeout"])
    assert all(q["Properties"].get("SqsManagedSseEnabled") is True for q in queues.values())


def test_queue_feeds_the_ingest_function(dev, config):
    fn_cfg = config.stage("dev").functions
    queue_id = [k for k in resources(dev, "AWS::SQS::Queue") if "Uploads" in k][0]
    (p,) = [m["Properties"] for m in resources(dev, "AWS::Lambda::EventSourceMapping").values()
            if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}]
    ingest_id = [k for k, v in resources(dev, "AWS::Lambda::Function").items()
                 if v["Properties"]["Handler"] == "noticebot.handlers.ingest.handler"][0]
    assert p["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    assert p["FunctionName"] == {"Ref": ingest_id}
    assert p["BatchSize"] == fn_cfg.ingest_batch_size
    assert p["ScalingConfig"] == {"MaximumConcurrency": fn_cfg.ingest_max_concurrency}
    assert p["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_the_manifest_gives_each_function_what_its_bundle_needs():
    for spec in FUNCTIONS.values():
        # Only variables the package reads (Settings) or Powertools reads.
        assert spec.environment | spec.optional_environment <= SETTINGS_VARS | POWERTOOLS_VARS
        # A bundle with only the tokenizer gets its vectors from the embed function.
        assert (EnvVar.EMBED_FUNCTION in spec.environment) == (spec.embedder == "tokenizer"), spec
    # The API launches fine-tunes, the deploy function deploys them; nobody else needs them.
    assert {f.name for f in FUNCTIONS.values() if FINE_TUNE_ENVIRONMENT <= f.environment} == {
        API.name, DEPLOY.name}
    assert EMBED.environment == {EnvVar.EMBED_MODEL_DIR, PowertoolsEnv.SERVICE_NAME}


def expected_environment(spec: LambdaFunction, env: dict) -> set[str]:
    runtime = {EXEC_WRAPPER} if spec.exec_wrapper else set()
    return set(spec.environment) | (spec.optional_environment & set(env)) | runtime


@pytest.mark.parametrize("stage, service", [("dev", "es"), ("prod", "aoss")])
def test_functions_get_exactly_the_environment_contract(request, stage, service):
    t = request.getfixturevalue(stage)
    fns = functions(t)
    by_handler = {spec.handler: spec for spec in FUNCTIONS.values()}
    assert set(fns) == set(by_handler)
    for handler, props in fns.items():
        env = props["Environment"]["Variables"]
        spec = by_handler[handler]
        assert set(env) == expected_environment(spec, env), handler
        assert set(env) - {EXEC_WRAPPER} <= SETTINGS_VARS | POWERTOOLS_VARS, handler
        if spec.exec_wrapper:
            assert env[EXEC_WRAPPER] == f"{LAMBDA_TASK_ROOT}/{spec.exec_wrapper}", handler
        assert props["Runtime"] == "python3.12"
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert props["LoggingConfig"]["LogGroup"]["Ref"]
        assert env[PowertoolsEnv.SERVICE_NAME] == f"noticebot-{by_handler[handler].name}"
    del fns[EMBED.handler]  # reaches nothing; its environment is the model folder only
    for handler, props in fns.items():
        env = props["Environment"]["Variables"]
        assert env[EnvVar.MODE] == "aws"
        assert env[EnvVar.SEARCH_SERVICE] == service
        assert env[EnvVar.SEARCH_INDEX] == "noticebot-chunks"
        assert env[EnvVar.CHAT_ENDPOINT] == f"noticebot-{stage}-llm"
        assert env[EnvVar.CHAT_COMPONENT] == f"noticebot-{stage}-llm-base"
        assert env[EnvVar.EMBED_MODEL_DIR] == "/var/task/models/bge_small_en"
        assert env[EnvVar.MAX_UPLOAD_BYTES] == str(4 * 2**20)
        assert env[EnvVar.PRESIGNED_MAX_BYTES] == str(100 * 2**20)
        assert env[EnvVar.BUCKET]["Ref"].startswith("StorageData")
        assert env[EnvVar.TABLE]["Ref"].startswith("StorageTable")
        assert env[EnvVar.KMS_KEY_ID]["Fn::GetAtt"][0].startswith("StorageKey")
        assert "https://" in str(env[EnvVar.SEARCH_ENDPOINT]) or service == "aoss"


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_fine_tune_environment_matches_the_training_resources(request, stage, config):
    t = request.getfixturevalue(stage)
    c = config.stage(stage)
    fns = functions(t)
    api_env = fns[API_HANDLER]["Environment"]["Variables"]
    deploy_env = fns[DEPLOY_HANDLER]["Environment"]["Variables"]
    assert {k: api_env[k] for k in FINE_TUNE_ENVIRONMENT} == {
        k: deploy_env[k] for k in FINE_TUNE_ENVIRONMENT}
    env = deploy_env
    # The rule's prefix: the deploy handler ignores events of any other job name.
    rule, = [v for k, v in resources(t, "AWS::Events::Rule").items()
             if k.startswith("TrainingJobStateChange")]
    prefix = rule["Properties"]["EventPattern"]["detail"]["TrainingJobName"][0]["prefix"]
    assert env[EnvVar.TRAINING_JOB_PREFIX] == prefix == f"noticebot-{stage}-ft-"
    assert env[EnvVar.TRAINING_ROLE_ARN]["Fn::GetAtt"][0].startswith("TrainingExecutionRole")
    _, group = only(t, "AWS::SageMaker::ModelPackageGroup")
    assert env[EnvVar.MODEL_PACKAGE_GROUP] == group["Properties"]["ModelPackageGroupName"]
    _, model = only(t, "AWS::SageMaker::Model")
    assert env[EnvVar.ADAPTER_IMAGE] == model["Properties"]["PrimaryContainer"]["Image"]
    assert env[EnvVar.BASE_MODEL] == c.model.model_id
    assert env[EnvVar.TRAINING_IMAGE] == (
        f"763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:"
        f"{c.training.image_tag}")
    # Gated base weights are staged in S3 and mounted as the jobs' model channel.
    assert "noticebot-weights-" in json.dumps(env[EnvVar.BASE_MODEL_S3])
    assert env[EnvVar.TRAINING_INSTANCE_TYPE] == c.training.instance_type
    assert env[EnvVar.TRAINING_SPOT] == "true"
    assert env[EnvVar.TRAINING_MAX_RUNTIME_S] == str(c.training.max_runtime_s)
    assert env[EnvVar.TRAINING_MAX_WAIT_S] == str(c.training.max_wait_s)
    # s3://<bootstrap assets bucket>/<content hash>.gz: the training source asset.
    source = env[EnvVar.TRAINING_SOURCE]
    text = str(source)
    assert "s3://" in text and "cdk-hnb659fds-assets-" in text and ".gz" in text


def test_functions_use_their_own_roles_without_managed_policies(dev):
    roles = resources(dev, "AWS::IAM::Role")
    for fn in resources(dev, "AWS::Lambda::Function").values():
        role_id = fn["Properties"]["Role"]["Fn::GetAtt"][0]
        assert "ManagedPolicyArns" not in roles[role_id]["Properties"]
    # The one managed policy: the account's API Gateway logging role (AWS's policy for it).
    managed = [k for k, r in roles.items() if "ManagedPolicyArns" in r["Properties"]]
    assert [k for k in managed if not k.startswith("ApiRestCloudWatchRole")] == []


def test_transcribe_completion_reaches_the_transcription_function(dev):
    rules = {k: v for k, v in resources(dev, "AWS::Events::Rule").items()
             if "TranscriptionDone" in k}
    assert len(rules) == 1
    rule = next(iter(rules.values()))["Properties"]
    pattern = rule["EventPattern"]
    assert pattern["source"] == ["aws.transcribe"]
    assert pattern["detail-type"] == ["Transcribe Job State Change"]
    assert pattern["detail"]["TranscriptionJobStatus"] == ["COMPLETED", "FAILED"]
    # This stage's jobs only: the prefix is the stage's bucket name (one source with the
    # adapter, noticebot.domain.keys.transcription_job_prefix).
    (prefix,) = pattern["detail"]["TranscriptionJobName"]
    assert json.dumps(prefix["prefix"]).startswith('{"Fn::Join": ["", ["noticebot-dev-data-"')
    assert json.dumps(prefix["prefix"]).endswith('"-us-east-1-tx-"]]}')
    fn_id = [k for k, v in resources(dev, "AWS::Lambda::Function").items()
             if v["Properties"]["Handler"] == "noticebot.handlers.transcription.handler"][0]
    target, = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [fn_id, "Arn"]}
    dlq_id = [k for k in resources(dev, "AWS::SQS::Queue")
              if k.startswith("IngestionDeadLetters")][0]
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dlq_id, "Arn"]}}
    invoke_config, = [v for v in resources(dev, "AWS::Lambda::EventInvokeConfig").values()
                      if v["Properties"]["FunctionName"] == {"Ref": fn_id}]
    assert invoke_config["Properties"]["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": [dlq_id, "Arn"]}


def test_an_environment_that_differs_from_the_manifest_fails_the_synth(config):
    import aws_cdk as cdk
    from aws_cdk import aws_lambda as lambda_

    from cdk.constructs.function import ServiceFunction

    def make(environment: dict[str, str]) -> None:
        ServiceFunction(cdk.Stack(cdk.App(), "S"), "Embed", config=config.stage("dev"),
                        spec=EMBED, code=lambda_.Code.from_inline("pass"), memory_mb=128,
                        timeout_s=3, environment=environment)

    wanted = {EnvVar.EMBED_MODEL_DIR: "/m", PowertoolsEnv.SERVICE_NAME: "s"}
    make(wanted)
    with pytest.raises(ValueError, match=r"functions: not declared \['NOTICEBOT_BUCKET'\]$"):
        make({**wanted, EnvVar.BUCKET: "b"})
    with pytest.raises(ValueError, match=r"functions: missing \['POWERTOOLS_SERVICE_NAME'\]$"):
        make({EnvVar.EMBED_MODEL_DIR: "/m"})
