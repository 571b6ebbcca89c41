"""The SageMaker training launcher against moto: the CreateTrainingJob request as moto records
it (moto rewrites MetricDefinitions with its own sample, so those are read from the request
as sent, through a botocore event hook), the status read back, metrics.json from the model
tarball in S3. moto 5.2 does not validate training instance types (its endpoint and notebook
lists are old and reject ml.g5.*); the tests set the type explicitly, as configuration does."""

import io
import json
import tarfile

import boto3
import pytest

from noticebot.adapters.aws.sagemaker_training import (
    METRIC_DEFINITIONS,
    SageMakerTrainingLauncher,
    training_image_uri,
)
from noticebot.domain.errors import ModelUnavailable
from noticebot.domain.keys import dataset_prefix
from noticebot.domain.tuning import FineTuneJob

REGION = "us-east-1"
JOB_ID = "0f3c2d9a8b7e4f6a9c1d2e3f4a5b6c7d"
ROLE = "arn:aws:iam::123456789012:role/noticebot-dev-app-TrainingExecutionRole"
INSTANCE = "ml.g5.2xlarge"


@pytest.fixture
def sagemaker(aws):
    client = boto3.client("sagemaker", region_name=REGION)
    client.sent = []
    client.meta.events.register("before-parameter-build.sagemaker.CreateTrainingJob",
                                lambda params, **_: client.sent.append(json.loads(json.dumps(params))))
    return client


def launcher(sagemaker, s3=None, **kw):
    options = dict(bucket="noticebot-docs", role_arn=ROLE, region=REGION,
                   image_uri=training_image_uri(REGION, "2.6.0-gpu-py312-cu126-ubuntu22.04-sagemaker"),
                   instance_type=INSTANCE, job_prefix="noticebot-dev-ft-",
                   source_uri="s3://noticebot-docs/code/training/sourcedir.tar.gz",
                   max_runtime_s=3600, max_wait_s=7200, s3_client=s3)
    options.update(kw)
    return SageMakerTrainingLauncher(sagemaker, **options)


def job(ws="riverside", **hps):
    return FineTuneJob(ws, JOB_ID, "maria", hyperparameters={"epochs": 2, "learning_rate": 2e-4,
                                                             "chat_template": "llama3", **hps},
                       dataset_prefix=dataset_prefix(ws, JOB_ID))


def test_create_training_job_request_as_moto_records_it(sagemaker):
    name = launcher(sagemaker).launch(job())
    assert name == f"noticebot-dev-ft-{JOB_ID}"
    d = sagemaker.describe_training_job(TrainingJobName=name)
    assert d["RoleArn"] == ROLE
    assert d["AlgorithmSpecification"]["TrainingImage"] == (
        "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:"
        "2.6.0-gpu-py312-cu126-ubuntu22.04-sagemaker")
    assert d["HyperParameters"] == {
        "epochs": "2", "learning_rate": "0.0002", "chat_template": "llama3",
        "sagemaker_program": "train.py", "sagemaker_region": REGION,
        "sagemaker_submit_directory": "s3://noticebot-docs/code/training/sourcedir.tar.gz"}
    channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"]
                for c in d["InputDataConfig"]}
    assert channels == {
        "train": f"s3://noticebot-docs/tenants/riverside/datasets/{JOB_ID}/train/",
        "validation": f"s3://noticebot-docs/tenants/riverside/datasets/{JOB_ID}/validation/"}
    assert d["OutputDataConfig"] == {"S3OutputPath": "s3://noticebot-docs/tenants/riverside/models/"}
    assert d["ResourceConfig"] == {"InstanceType": INSTANCE, "InstanceCount": 1,
                                   "VolumeSizeInGB": 100}
    assert d["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200}
    assert d["EnableManagedSpotTraining"] is True
    assert d["CheckpointConfig"] == {
        "S3Uri": f"s3://noticebot-docs/tenants/riverside/models/{name}/checkpoints/",
        "LocalPath": "/opt/ml/checkpoints"}
    tags = sagemaker.list_tags(ResourceArn=d["TrainingJobArn"])["Tags"]
    assert {"Key": "noticebot:workspace", "Value": "riverside"} in tags
    assert {"Key": "noticebot:job", "Value": JOB_ID} in tags
    (sent,) = sagemaker.sent  # moto replaces MetricDefinitions with its own sample
    assert sent["AlgorithmSpecification"]["MetricDefinitions"] == METRIC_DEFINITIONS


def test_metric_regexes_parse_train_py_lines():
    import re

    line = "step=4/8 epoch=1.00 eval_loss=0.973100; base_eval_loss=1.620400;"
    found = {m["Name"]: re.search(m["Regex"], line) for m in METRIC_DEFINITIONS}
    assert found["eval_loss"].group(1) == "0.973100"
    assert found["base_eval_loss"].group(1) == "1.620400" and found["train_loss"] is None
    assert re.search(METRIC_DEFINITIONS[1]["Regex"], "base_eval_loss=1.5;") is None


def test_without_spot_there_is_no_wait_time_or_checkpoint(sagemaker):
    request = launcher(sagemaker, spot=False, base_model_s3="s3://weights/llama3/").request(job())
    assert request["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600}
    assert "CheckpointConfig" not in request and request["EnableManagedSpotTraining"] is False
    assert request["InputDataConfig"][-1]["ChannelName"] == "model"
    assert request["HyperParameters"]["model_name_or_path"] == "/opt/ml/input/data/model"


def test_status_reads_metrics_json_from_the_model_tarball(sagemaker, s3):
    runner = launcher(sagemaker, s3=s3)
    name = runner.launch(job())
    j = job()
    j.training_job_name = name
    artifact = sagemaker.describe_training_job(TrainingJobName=name)["ModelArtifacts"]["S3ModelArtifacts"]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for fname, data in (("adapter_config.json", b"{}"), ("adapter_model.safetensors", b"\0" * 99),
                            ("metrics.json", json.dumps({"eval_loss": 0.9, "base_eval_loss": 1.3,
                                                         "device": "cuda"}).encode())):
            info = tarfile.TarInfo(fname)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    bucket, key = artifact[5:].split("/", 1)
    assert key == f"tenants/riverside/models/{name}/output/model.tar.gz"
    s3.put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())
    state = runner.status(j)
    assert state.status == "Completed" and state.artifact_uri == artifact
    assert state.metrics["base_eval_loss"] == 1.3 and state.metrics["eval_loss"] == 0.9
    assert state.metrics["train:progress"] == 100.0  # moto's FinalMetricDataList sample


def test_unconfigured_training_is_model_unavailable(sagemaker):
    with pytest.raises(ModelUnavailable, match="NOTICEBOT_TRAINING_ROLE_ARN"):
        launcher(sagemaker, role_arn="").launch(job())
    assert sagemaker.list_training_jobs()["TrainingJobSummaries"] == []


def test_no_client_is_built_to_construct():
    built = []
    SageMakerTrainingLauncher(lambda: built.append(1), bucket="b", role_arn=ROLE, image_uri="i",
                              region=REGION)
    assert built == []


def test_training_image_accounts_agree_with_the_cdk_table():
    images = pytest.importorskip("cdk.images")
    for region, account in images.DLC_ACCOUNTS.items():
        assert training_image_uri(region, "t").startswith(f"{account}.dkr.ecr.{region}."), region
    assert training_image_uri("cn-north-1", "t").split("/")[0].endswith("amazonaws.com.cn")
