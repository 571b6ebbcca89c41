"""Fine-tuning on AWS: the deploy function, the rule that feeds it, the grants of both sides
(the API launches jobs, the deploy function registers and deploys adapters) and the training
source asset."""

from __future__ import annotations

import dataclasses
import io
import json
import tarfile

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from cdk_testlib import as_list, make_app, only, render, resources
from noticebot.environment import EnvVar
from noticebot.functions import DEPLOY

from cdk import assets
from cdk.config import load_config
from cdk.constructs.storage import Storage
from cdk.constructs.training import Training

DEPLOY_HANDLER = DEPLOY.handler


def function(t, handler: str) -> tuple[str, dict]:
    found = [(k, v) for k, v in resources(t, "AWS::Lambda::Function").items()
             if v["Properties"]["Handler"] == handler]
    assert len(found) == 1, handler
    return found[0]


def policy_of(t, role_prefix: str) -> dict[str | None, list[dict]]:
    """Sid -> statements of the default policy of the role whose logical id starts with
    role_prefix (statements without a Sid, from CDK's own grants, are under None)."""
    policies = [p for k, p in resources(t, "AWS::IAM::Policy").items()
                if k.startswith(role_prefix)]
    assert len(policies) == 1, role_prefix
    out: dict[str | None, list[dict]] = {}
    for s in policies[0]["Properties"]["PolicyDocument"]["Statement"]:
        out.setdefault(s.get("Sid"), []).append(s)
    return out


def sid(policy, name) -> dict:
    statements = policy[name]
    assert len(statements) == 1, name
    return statements[0]


def arn_tails(statement) -> list[str]:
    """The resource part of each ARN (after region:account:), or the rendered value."""
    return sorted(render(r).split(":<AWS::AccountId>:")[-1] for r in as_list(statement["Resource"]))


# ---- the deploy function -----------------------------------------------------------------------
@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_deploy_function_is_a_service_function_with_its_own_role(request, stage, config):
    t = request.getfixturevalue(stage)
    fn_cfg = config.stage(stage).functions
    _, fn = function(t, DEPLOY_HANDLER)
    p = fn["Properties"]
    assert p["FunctionName"] == f"noticebot-{stage}-deploy"
    assert p["Runtime"] == "python3.12"
    assert p["MemorySize"] == fn_cfg.deploy_memory_mb
    assert p["Timeout"] == fn_cfg.deploy_timeout_s
    assert p["TracingConfig"] == {"Mode": "Active"}
    assert p["Role"]["Fn::GetAtt"][0].startswith("DeployRole")
    assert p["LoggingConfig"]["LogGroup"]["Ref"].startswith("DeployLogs")


def test_rule_delivers_finished_jobs_to_the_deploy_function_with_retries_and_a_dlq(dev):
    fn_id, _ = function(dev, DEPLOY_HANDLER)
    rule_id, rule = [(k, v) for k, v in resources(dev, "AWS::Events::Rule").items()
                     if k.startswith("TrainingJobStateChange")][0]
    target, = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [fn_id, "Arn"]}
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 6 * 3600,
                                     "MaximumRetryAttempts": 4}
    dlq_id, dlq = [(k, v) for k, v in resources(dev, "AWS::SQS::Queue").items()
                   if k.startswith("TrainingDeployDeadLetters")][0]
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dlq_id, "Arn"]}}
    assert dlq["Properties"]["SqsManagedSseEnabled"] is True
    assert dlq["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    # EventBridge invokes asynchronously: a handler error is retried twice by Lambda, then the
    # event goes to the same queue (the rule's DLQ only catches delivery failures).
    invoke, = [v["Properties"] for v in resources(dev, "AWS::Lambda::EventInvokeConfig").values()
               if v["Properties"]["FunctionName"] == {"Ref": fn_id}]
    assert invoke["MaximumRetryAttempts"] == 2
    assert invoke["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": [dlq_id, "Arn"]}
    # Only this rule may invoke it, and only this rule may write to the queue.
    permission, = [v["Properties"] for v in resources(dev, "AWS::Lambda::Permission").values()
                   if v["Properties"]["FunctionName"] == {"Fn::GetAtt": [fn_id, "Arn"]}]
    assert permission["Principal"] == "events.amazonaws.com"
    assert permission["SourceArn"] == {"Fn::GetAtt": [rule_id, "Arn"]}
    queue_policy, = [v["Properties"]["PolicyDocument"] for v in
                     resources(dev, "AWS::SQS::QueuePolicy").values()
                     if v["Properties"]["Queues"] == [{"Ref": dlq_id}]]
    allow, = [s for s in queue_policy["Statement"] if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "events.amazonaws.com"}
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}}}
    # A message there pages.
    alarm, = [a["Properties"] for a in resources(dev, "AWS::CloudWatch::Alarm").values()
              if a["Properties"].get("AlarmName") == "noticebot-dev-deploy-dead-letters"]
    assert alarm["Dimensions"] == [{"Name": "QueueName",
                                    "Value": {"Fn::GetAtt": [dlq_id, "QueueName"]}}]
    assert alarm["Threshold"] == 1 and alarm["AlarmActions"]


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_deploy_function_grants_are_exactly_the_scoped_ones(request, stage):
    t = request.getfixturevalue(stage)
    policy = policy_of(t, "DeployRole")
    assert set(policy) == {
        "OwnLogGroup", None, "TableItems", "TableIndexQueries", "TableKey",
        "ReadWriteAdapters", "DataKeyForReadWriteAdapters", "DescribeFinishedJobs",
        "RegisterAdapters", "ReadAdapterRegistry", "CreateAdapterComponents",
        "ManageAdapterComponents"}
    # Adapters: read model.tar.gz / write metrics.json under tenants/*/models/ only.
    adapters = sid(policy, "ReadWriteAdapters")
    assert sorted(as_list(adapters["Action"])) == ["s3:GetObject", "s3:PutObject"]
    assert render(adapters["Resource"]) == "<StorageData6BB23F4E.Arn>/tenants/*/models/*"
    key = sid(policy, "DataKeyForReadWriteAdapters")
    assert render(key["Resource"]).startswith("<StorageKey")
    # The finished job: describe only, this stage's jobs only.
    jobs = sid(policy, "DescribeFinishedJobs")
    assert jobs["Action"] == "sagemaker:DescribeTrainingJob"
    assert arn_tails(jobs) == [f"training-job/noticebot-{stage}-ft-*"]
    # The model registry: this stage's group and its versions.
    register = sid(policy, "RegisterAdapters")
    assert sorted(as_list(register["Action"])) == [
        "sagemaker:AddTags", "sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackage"]
    group_id, _ = only(t, "AWS::SageMaker::ModelPackageGroup")
    assert arn_tails(register) == [f"<{group_id}.ModelPackageGroupArn>",
                                   f"model-package/noticebot-{stage}-adapters/*"]
    registry = sid(policy, "ReadAdapterRegistry")
    assert registry["Action"] == "sagemaker:DescribeModelPackageGroup"
    assert arn_tails(registry) == [f"<{group_id}.ModelPackageGroupArn>"]
    # Adapter components on this stage's endpoint: never the base component.
    create = sid(policy, "CreateAdapterComponents")
    assert create["Action"] == "sagemaker:CreateInferenceComponent"
    assert arn_tails(create) == [f"endpoint/noticebot-{stage}-llm",
                                 f"inference-component/noticebot-{stage}-llm-ft-*"]
    manage = sid(policy, "ManageAdapterComponents")
    assert sorted(as_list(manage["Action"])) == [
        "sagemaker:AddTags", "sagemaker:DeleteInferenceComponent",
        "sagemaker:DescribeInferenceComponent"]
    assert arn_tails(manage) == [f"inference-component/noticebot-{stage}-llm-ft-*"]
    # CDK's own statements: X-Ray (Resource *) and the failure destination (its queue).
    unnamed = {frozenset(as_list(s["Action"])): render(s["Resource"]) for s in policy[None]}
    assert unnamed == {
        frozenset({"xray:PutTraceSegments", "xray:PutTelemetryRecords"}): "*",
        frozenset({"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}):
            next(f"<{k}.Arn>" for k in resources(t, "AWS::SQS::Queue")
                 if k.startswith("TrainingDeployDeadLetters"))}
    # Nothing of the deploy role reaches the base component, the index, uploads or datasets.
    text = json.dumps([s for statements in policy.values() for s in statements])
    for forbidden in ("llm-base", "llm-*", "es:", "aoss:", "/raw/", "/datasets/",
                      "iam:PassRole", "sagemaker:CreateTrainingJob", "sagemaker:InvokeEndpoint"):
        assert forbidden not in text, forbidden


def test_the_api_launches_jobs_and_writes_datasets(dev):
    policy = policy_of(dev, "ApiHandlerRole")
    datasets = sid(policy, "WriteDatasets")
    assert datasets["Action"] == "s3:PutObject"
    assert render(datasets["Resource"]) == "<StorageData6BB23F4E.Arn>/tenants/*/datasets/*"
    jobs = sid(policy, "TrainingJobs")
    assert sorted(as_list(jobs["Action"])) == [
        "sagemaker:AddTags", "sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob",
        "sagemaker:StopTrainingJob"]
    assert arn_tails(jobs) == ["training-job/noticebot-dev-ft-*"]
    pass_role = sid(policy, "PassTrainingRole")
    assert render(pass_role["Resource"]).startswith("<TrainingExecutionRole")
    assert pass_role["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
    # The API registers and deploys nothing itself: that is the deploy function's job.
    text = json.dumps(policy)
    for action in ("CreateModelPackage", "CreateInferenceComponent", "DeleteInferenceComponent"):
        assert action not in text, action


# ---- the training source -----------------------------------------------------------------------
def test_training_role_reads_exactly_the_source_object_the_functions_point_at(dev):
    _, fn = function(dev, DEPLOY_HANDLER)
    url = fn["Properties"]["Environment"]["Variables"][EnvVar.TRAINING_SOURCE]["Fn::Sub"]
    bucket, key = url[len("s3://"):].split("/", 1)
    assert bucket == "cdk-hnb659fds-assets-${AWS::AccountId}-us-east-1" and key.endswith(".gz")
    policy = policy_of(dev, "TrainingExecutionRole")
    source = sid(policy, "ReadTrainingSource")
    assert source["Action"] == "s3:GetObject"
    rendered = render(source["Resource"])
    assert "*" not in rendered  # one object, not the bootstrap bucket
    assert rendered.endswith(f"/{key}") and "cdk-hnb659fds-assets-" in json.dumps(source)


def test_training_source_archive_is_what_the_training_toolkit_unpacks(tmp_path):
    data = assets.training_source_bytes()
    assert data == assets.training_source_bytes()  # reproducible: the asset hash is stable
    # sagemaker-training's files.download_and_extract: tarfile.open(mode="r:gz").extractall
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        members = archive.getmembers()
    names = [m.name for m in members]
    expected = sorted(p.name for p in (assets.ROOT / "sagemaker" / "training").iterdir()
                      if p.suffix == ".py" or p.name == "requirements.txt")
    assert names == expected
    assert {"train.py", "hyperparameters.py", "requirements.txt"} <= set(names)
    assert all(m.isfile() and m.mtime == 0 and "/" not in m.name for m in members)
    written = assets.training_source_archive(tmp_path / "out" / "sourcedir.tar.gz")
    assert written.read_bytes() == data


def test_training_source_needs_its_entry_point(tmp_path):
    (tmp_path / "helper.py").write_text("")
    with pytest.raises(FileNotFoundError, match="train.py"):
        assets.training_source_bytes(tmp_path)


# ---- configuration the templates above do not show ---------------------------------------------
def _training_stack(**changes):
    app = make_app()
    stage = load_config(app).stage("dev")
    for section, values in changes.items():
        stage = dataclasses.replace(stage, **{
            section: dataclasses.replace(getattr(stage, section), **values)})
    stack = cdk.Stack(app, "TrainingConfig", env=cdk.Environment(region="us-east-1"))
    training = Training(stack, "Training", config=stage, storage=Storage(stack, "S", config=stage))
    return stack, training


def test_an_image_override_moves_the_pull_grant_with_it():
    image = "111111111111.dkr.ecr.us-east-1.amazonaws.com/my-trainer:1.0"
    stack, training = _training_stack(training={"image_uri": image, "spot": False})
    env = stack.resolve(training.environment(adapter_image="img"))
    assert env[EnvVar.TRAINING_IMAGE] == image
    assert env[EnvVar.TRAINING_SPOT] == "false"
    t = assertions.Template.from_stack(stack)
    pull = sid(policy_of(t, "TrainingExecutionRole"), "PullTrainingImage")
    assert pull["Resource"] == "arn:aws:ecr:us-east-1:111111111111:repository/my-trainer"


def test_the_weights_placeholders_are_filled_per_stack():
    stack, training = _training_stack(
        model={"weights_s3_uri": "s3://weights-{account}-{region}/llama3/8b/"})
    env = stack.resolve(training.environment(adapter_image="img"))
    assert env[EnvVar.BASE_MODEL_S3] == {"Fn::Join": ["", [
        "s3://weights-", {"Ref": "AWS::AccountId"}, "-us-east-1/llama3/8b/"]]}
    t = assertions.Template.from_stack(stack)
    read = sid(policy_of(t, "TrainingExecutionRole"), "ReadBaseWeights")
    assert "{account}" not in json.dumps(read) and "AWS::AccountId" in json.dumps(read)


def test_staged_base_weights_become_the_jobs_model_channel():
    stack, training = _training_stack(model={"weights_s3_uri": "s3://weights-bucket/llama3/8b/"})
    env = stack.resolve(training.environment(adapter_image="img"))
    assert env[EnvVar.BASE_MODEL_S3] == "s3://weights-bucket/llama3/8b/"
    t = assertions.Template.from_stack(stack)
    policy = policy_of(t, "TrainingExecutionRole")
    assert sid(policy, "ReadBaseWeights")["Resource"] == "arn:aws:s3:::weights-bucket/llama3/8b/*"
    listing = sid(policy, "ListBaseWeights")
    assert listing["Resource"] == "arn:aws:s3:::weights-bucket"
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["llama3/8b/*"]}}
