"""The deploy Lambda on the recorded-shape EventBridge events (tests/fixtures/events/
eventbridge_sagemaker_training_*.json, built from the documented "SageMaker Training Job State
Change" example; its Tags map is empty, as EventBridge often delivers it), with the aws-mode
container on moto: DynamoDB (job, model version, active model, training slot), S3 (the
ModelQuality statistics file), SageMaker model packages. Inference components are not in
moto 5.2: sagemaker_fakes.InferenceComponentsOnMoto records those calls, checked against
botocore's request model."""

import copy
import json
from pathlib import Path

import boto3
import pytest

from fakes import FakeChatModel, FakeEmbedder, FakeVectorIndex
from noticebot.adapters.aws.dynamodb_metadata_store import DynamoDbMetadataStore
from noticebot.adapters.aws.s3_blob_store import S3BlobStore
from noticebot.adapters.aws.sagemaker_registry import SageMakerModelRegistry
from noticebot.adapters.aws.sagemaker_training import SageMakerTrainingLauncher
from noticebot.bootstrap_aws import bootstrap_aws
from noticebot.config import Settings
from noticebot.domain.models import Principal
from noticebot.domain.tuning import FineTuneJob, JobStatus
from noticebot.handlers import deploy
from sagemaker_fakes import InferenceComponentsOnMoto

EVENTS = Path(__file__).parents[2] / "fixtures" / "events"
JOB_ID = "0f3c2d9a8b7e4f6a9c1d2e3f4a5b6c7d"
NAME = f"noticebot-dev-ft-{JOB_ID}"
GROUP = "noticebot-dev-adapters"
ARTIFACT = f"s3://noticebot-docs/tenants/riverside/models/{NAME}/output/model.tar.gz"


def event(kind="completed") -> dict:
    return json.loads((EVENTS / f"eventbridge_sagemaker_training_{kind}.json").read_text())


@pytest.fixture
def stack(ddb, s3):
    sm = InferenceComponentsOnMoto(boto3.client("sagemaker", region_name="us-east-1"))
    sm.create_model_package_group(ModelPackageGroupName=GROUP)
    settings = Settings(mode="aws", bucket="noticebot-docs", table="noticebot-test",
                        aws_region="us-east-1", training_job_prefix="noticebot-dev-ft-",
                        chat_endpoint="noticebot-dev-llm", chat_component="noticebot-dev-llm-base",
                        model_package_group=GROUP, adapter_image="lmi:latest")
    blobs = S3BlobStore("noticebot-docs", s3)
    launcher = SageMakerTrainingLauncher(sm, bucket="noticebot-docs", role_arn="arn:role",
                                         image_uri="img", region="us-east-1",
                                         job_prefix="noticebot-dev-ft-", s3_client=s3)
    registry = SageMakerModelRegistry(sm, blobs, bucket="noticebot-docs", group_name=GROUP,
                                      endpoint_name="noticebot-dev-llm",
                                      base_component="noticebot-dev-llm-base",
                                      image_uri="lmi:latest")
    c = bootstrap_aws(settings, embedder=FakeEmbedder(), chat_model=FakeChatModel(),
                      index=FakeVectorIndex(), metadata=DynamoDbMetadataStore("noticebot-test", ddb),
                      blobs=blobs, engines=object(), launcher=launcher, registry=registry)
    c.sm, c.ddb, c.s3 = sm, ddb, s3
    running = FineTuneJob("riverside", JOB_ID, "maria", hyperparameters={"epochs": 2},
                          status=JobStatus.RUNNING, training_job_name=NAME,
                          dataset_prefix=f"tenants/riverside/datasets/{JOB_ID}/")
    c.metadata.put_job(running)
    assert c.metadata.claim_tuning_slot("riverside", JOB_ID) is None
    return c


def item(ddb, sk, ws="riverside"):
    return ddb.get_item(TableName="noticebot-test",
                        Key={"pk": {"S": f"WS#{ws}"}, "sk": {"S": sk}}).get("Item")


def test_completion_registers_deploys_and_activates(stack):
    result = deploy.handle(event(), stack)
    model_id = f"ft-{JOB_ID[:16]}"
    assert result == {"status": "completed", "job": JOB_ID, "model_id": model_id,
                      "activated": True, "reason": result["reason"]}
    # model package: in the group, with its metrics, approved (it beat the base model)
    (summary,) = stack.sm.list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"]
    package = stack.sm.describe_model_package(ModelPackageName=summary["ModelPackageArn"])
    assert package["ModelApprovalStatus"] == "Approved"
    props = package["CustomerMetadataProperties"]
    assert (props["workspace"], props["job_id"], props["eval_loss"], props["base_eval_loss"]) == (
        "riverside", JOB_ID, "0.9731", "1.6204")
    assert package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"] == ARTIFACT
    stats = package["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
    assert stats == f"s3://noticebot-docs/tenants/riverside/models/{model_id}/metrics.json"
    body = stack.s3.get_object(Bucket="noticebot-docs", Key=stats.split("/", 3)[3])["Body"].read()
    assert json.loads(body)["adapter_metrics"]["eval_loss"] == 0.9731
    # inference component: the adapter on the base component, the artifact of this job
    component = stack.sm.components[f"noticebot-dev-llm-{model_id}"]
    assert component["EndpointName"] == "noticebot-dev-llm"
    assert component["Specification"] == {"BaseInferenceComponentName": "noticebot-dev-llm-base",
                                          "Container": {"ArtifactUrl": ARTIFACT}}
    # activation records in the single table
    assert item(stack.ddb, "ACTIVEMODEL")["model_id"] == {"S": model_id}
    version = json.loads(item(stack.ddb, f"MODEL#{model_id}")["record"]["S"])
    assert version["status"] == "available" and version["package_arn"] == summary["ModelPackageArn"]
    assert version["adapter_name"] == f"noticebot-dev-llm-{model_id}"
    job = item(stack.ddb, f"FTJOB#{JOB_ID}")
    assert job["status"] == {"S": "completed"}
    assert json.loads(job["record"]["S"])["metrics"]["train_loss"] == 0.8412
    assert item(stack.ddb, "FTSLOT") is None  # the workspace may train again


def test_a_redelivered_event_does_nothing_twice(stack):
    assert deploy.handle(event(), stack)["status"] == "completed"
    assert deploy.handle(event(), stack)["status"] == "duplicate"
    assert len(stack.sm.list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"]) == 1
    assert len(stack.sm.components) == 1


def test_a_loss_that_does_not_beat_base_is_pending_approval_and_inactive(stack):
    e = event()
    e["detail"]["FinalMetricDataList"][1]["Value"] = 1.9
    result = deploy.handle(e, stack)
    assert result["activated"] is False
    (summary,) = stack.sm.list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"]
    assert stack.sm.describe_model_package(
        ModelPackageName=summary["ModelPackageArn"])["ModelApprovalStatus"] == "PendingManualApproval"
    assert item(stack.ddb, "ACTIVEMODEL") is None
    assert len(stack.sm.components) == 1  # deployed anyway: an editor may activate it by hand
    version = stack.metadata.get_model("riverside", result["model_id"])
    assert "did not beat" in version.reason
    # An editor activates it anyway (the API route's service): the package is approved,
    # with who and why, so Studio's registry shows what serves the workspace.
    editor = Principal("maria", "riverside", is_editor=True)
    activated = stack.models.activate(editor, result["model_id"])
    package = stack.sm.describe_model_package(ModelPackageName=summary["ModelPackageArn"])
    assert package["ModelApprovalStatus"] == "Approved"
    assert package["ApprovalDescription"] == activated.reason
    assert activated.reason.startswith("activated by an editor (maria), although validation")
    assert item(stack.ddb, "ACTIVEMODEL")["model_id"] == {"S": result["model_id"]}


def test_failed_job_is_recorded_without_a_model(stack):
    result = deploy.handle(event("failed"), stack)
    assert result == {"status": "failed", "job": JOB_ID}
    job = stack.metadata.get_job("riverside", JOB_ID)
    assert job.status == JobStatus.FAILED and "learning_rate" in job.error
    assert stack.sm.list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"] == []
    assert stack.sm.components == {} and item(stack.ddb, "FTSLOT") is None


def test_events_of_other_jobs_or_workspaces_are_ignored(stack):
    other = event()
    other["detail"]["TrainingJobName"] = "someone-elses-job"
    assert deploy.handle(other, stack) == {"status": "ignored"}
    assert deploy.handle({"detail-type": "Something else"}, stack) == {"status": "ignored"}
    forged = copy.deepcopy(event())
    forged["detail"]["OutputDataConfig"]["S3OutputPath"] = "s3://noticebot-docs/tenants/other-club/models/"
    assert deploy.handle(forged, stack)["status"] == "ignored"  # no such job in other-club
    assert stack.metadata.get_job("riverside", JOB_ID).status == JobStatus.RUNNING


def test_metrics_missing_from_the_event_are_read_from_the_job(stack):
    """An event without FinalMetricDataList: the service asks the launcher, which describes the
    job and reads metrics.json from the model tarball (here: moto has no such job, so the
    version is registered without losses and stays inactive)."""
    e = event()
    del e["detail"]["FinalMetricDataList"]
    result = deploy.handle(e, stack)
    assert result["status"] == "completed" and result["activated"] is False
    assert "no validation loss" in result["reason"]


def test_deploy_failure_marks_job_and_version_failed(stack):
    stack.sm.components[f"noticebot-dev-llm-ft-{JOB_ID[:16]}"] = {}  # exists: idempotent, fine
    assert deploy.handle(event(), stack)["status"] == "completed"
    stack.metadata.put_job(FineTuneJob("riverside", "f" * 32, "maria", status=JobStatus.RUNNING,
                                       training_job_name=f"noticebot-dev-ft-{'f' * 32}"))
    e = event()
    e["detail"]["TrainingJobName"] = f"noticebot-dev-ft-{'f' * 32}"
    e["detail"]["ModelArtifacts"]["S3ModelArtifacts"] = "not-an-s3-uri"
    stack.registry.endpoint_name = ""  # the deployment lost its endpoint configuration
    assert deploy.handle(e, stack)["status"] == "failed"
    job = stack.metadata.get_job("riverside", "f" * 32)
    assert job.status == JobStatus.FAILED and "deployment failed" in job.error
