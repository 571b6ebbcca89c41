"""TrainingLauncher on SageMaker training jobs (``create_training_job``, no SageMaker SDK).

The job runs ``sagemaker/training/train.py`` in the PyTorch training Deep Learning Container
of the region (torch 2.6 on Python 3.12, what sagemaker/training/requirements.txt is resolved
against; ``NOTICEBOT_TRAINING_IMAGE``, which the stacks always set, overrides): the training
toolkit fetches the source (``sagemaker_submit_directory``, an s3:// sourcedir.tar.gz holding
train.py and its requirements.txt), decodes the hyperparameters into ``SM_HPS`` and runs
``sagemaker_program``. Channels ``train`` / ``validation`` come from
``s3://{bucket}/tenants/{ws}/datasets/{job}/``, the adapter goes to
``s3://{bucket}/tenants/{ws}/models/{job name}/output/model.tar.gz``.

Cost and robustness: managed spot capacity with checkpoints (``CheckpointConfig`` under the
job's model prefix, so an interrupted job resumes instead of starting over), a hard
``MaxRuntimeInSeconds`` and ``MaxWaitTimeInSeconds`` (spot waiting included). Metric
definitions parse train.py's ``train_loss=<f>;`` / ``eval_loss=<f>;`` lines into CloudWatch
and the job's ``FinalMetricDataList``. Tags name the workspace and job (cost allocation, and
the deploy handler's lookup).

The instance type is configuration (``NOTICEBOT_TRAINING_INSTANCE_TYPE``, default
ml.g5.2xlarge); the tests set it explicitly, since moto's instance-type lists are old.
"""

from __future__ import annotations

import json
import logging
import tarfile

from noticebot.adapters.aws.clients import ClientSource, lazy
from noticebot.domain.errors import ModelUnavailable
from noticebot.domain.keys import checkpoints_prefix, models_prefix
from noticebot.domain.tuning import FineTuneJob, TrainingState
from noticebot.ports.training_launcher import (
    CHANNELS,
    JOB_TAG,
    WORKSPACE_TAG,
    TrainingLauncher,
    encode_hyperparameters,
)

logger = logging.getLogger(__name__)

_FLOAT = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
# The same as sagemaker/training/hyperparameters.py METRIC_DEFINITIONS (a test compares them;
# the Lambda bundle does not carry that file). ``\b`` keeps eval_loss from matching inside
# base_eval_loss.
METRIC_DEFINITIONS = [{"Name": name, "Regex": rf"\b{name}={_FLOAT};"}
                      for name in ("train_loss", "eval_loss", "base_eval_loss")]
IMAGE_REPOSITORY = "pytorch-training"
_DEFAULT_DLC_ACCOUNT = "763104351884"
# Regions whose Deep Learning Containers live in another account (cdk/images.py, the canonical
# table the CDK app uses, is compared with this in a test).
_DLC_ACCOUNTS = {
    "af-south-1": "626614931356", "ap-east-1": "871362719292", "ap-east-2": "975050140332",
    "ap-northeast-3": "364406365360", "ap-south-2": "772153158452",
    "ap-southeast-3": "907027046896", "ap-southeast-4": "457447274322",
    "ap-southeast-5": "550225433462", "ap-southeast-6": "633930458069",
    "ap-southeast-7": "590183813437", "ca-west-1": "204538143572",
    "cn-north-1": "727897471807", "cn-northwest-1": "727897471807",
    "eu-central-2": "380420809688", "eu-south-1": "692866216735",
    "eu-south-2": "503227376785", "il-central-1": "780543022126",
    "me-central-1": "914824155844", "me-south-1": "217643126080",
    "mx-central-1": "637423239942", "us-gov-east-1": "446045086412",
    "us-gov-west-1": "442386744353",
}
CHECKPOINT_LOCAL_PATH = "/opt/ml/checkpoints"
BASE_MODEL_CHANNEL = "model"


def training_image_uri(region: str, tag: str) -> str:
    """The PyTorch training DLC for a region, e.g. us-east-1 ->
    763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:<tag>."""
    if not region:
        raise ValueError("a region is needed to pick the training image")
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    account = _DLC_ACCOUNTS.get(region, _DEFAULT_DLC_ACCOUNT)
    return f"{account}.dkr.ecr.{region}.{suffix}/{IMAGE_REPOSITORY}:{tag}"


class SageMakerTrainingLauncher(TrainingLauncher):
    def __init__(self, client: ClientSource, *, bucket: str, role_arn: str, image_uri: str,
                 region: str, instance_type: str = "ml.g5.2xlarge", job_prefix: str =
                 "noticebot-ft-", source_uri: str = "", base_model_s3: str = "",
                 spot: bool = True, max_runtime_s: int = 4 * 3600, max_wait_s: int = 8 * 3600,
                 volume_gb: int = 100, kms_key_id: str = "", s3_client: ClientSource = None,
                 metric_definitions: list[dict] | None = None):
        self._client = lazy(client)
        self._s3 = lazy(s3_client) if s3_client is not None else None
        self.bucket, self.role_arn, self.image_uri = bucket, role_arn, image_uri
        self.region, self.instance_type, self.job_prefix = region, instance_type, job_prefix
        self.source_uri, self.base_model_s3 = source_uri, base_model_s3
        self.spot, self.max_runtime_s = spot, max_runtime_s
        self.max_wait_s = max(max_wait_s, max_runtime_s)
        self.volume_gb, self.kms_key_id = volume_gb, kms_key_id
        self.metric_definitions = metric_definitions or METRIC_DEFINITIONS

    @property
    def client(self):
        return self._client()

    def job_name(self, job: FineTuneJob) -> str:
        name = f"{self.job_prefix}{job.job_id}"
        if len(name) > 63:
            raise ValueError(f"training job name {name!r} is longer than SageMaker's 63")
        return name

    def request(self, job: FineTuneJob) -> dict:
        """The CreateTrainingJob request (pure: the tests read it)."""
        ws, name, s3 = job.workspace_id, self.job_name(job), f"s3://{self.bucket}/"
        hyperparameters = dict(job.hyperparameters)
        channels = [(c, f"{s3}{job.dataset_prefix}{c}/") for c in CHANNELS]
        if self.base_model_s3:
            channels.append((BASE_MODEL_CHANNEL, self.base_model_s3))
            hyperparameters["model_name_or_path"] = f"/opt/ml/input/data/{BASE_MODEL_CHANNEL}"
        if self.source_uri:
            hyperparameters.update(sagemaker_program="train.py", sagemaker_region=self.region,
                                   sagemaker_submit_directory=self.source_uri)
        output = {"S3OutputPath": f"{s3}{models_prefix(ws)}"}
        if self.kms_key_id:
            output["KmsKeyId"] = self.kms_key_id
        stopping = {"MaxRuntimeInSeconds": int(self.max_runtime_s)}
        if self.spot:
            stopping["MaxWaitTimeInSeconds"] = int(self.max_wait_s)
        return {
            "TrainingJobName": name,
            "RoleArn": self.role_arn,
            "AlgorithmSpecification": {"TrainingImage": self.image_uri,
                                       "TrainingInputMode": "File",
                                       "MetricDefinitions": self.metric_definitions,
                                       "EnableSageMakerMetricsTimeSeries": True},
            "HyperParameters": encode_hyperparameters(hyperparameters),
            "InputDataConfig": [
                {"ChannelName": channel, "CompressionType": "None",
                 **({"ContentType": "application/jsonlines"} if channel in CHANNELS else {}),
                 "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri,
                                                 "S3DataDistributionType": "FullyReplicated"}}}
                for channel, uri in channels],
            "OutputDataConfig": output,
            "ResourceConfig": {"InstanceType": self.instance_type, "InstanceCount": 1,
                               "VolumeSizeInGB": int(self.volume_gb)},
            "StoppingCondition": stopping,
            "EnableManagedSpotTraining": bool(self.spot),
            **({"CheckpointConfig": {"S3Uri": f"{s3}{checkpoints_prefix(ws, name)}",
                                     "LocalPath": CHECKPOINT_LOCAL_PATH}} if self.spot else {}),
            "Environment": {"NOTICEBOT_WORKSPACE": ws, "NOTICEBOT_JOB_ID": job.job_id},
            "Tags": [{"Key": WORKSPACE_TAG, "Value": ws}, {"Key": JOB_TAG, "Value": job.job_id},
                     {"Key": "project", "Value": "noticebot"}],
        }

    def launch(self, job: FineTuneJob) -> str:
        missing = [n for n, v in (("NOTICEBOT_TRAINING_ROLE_ARN", self.role_arn),
                                  ("NOTICEBOT_BUCKET", self.bucket),
                                  ("a training image", self.image_uri)) if not v]
        if missing:
            raise ModelUnavailable("fine-tuning is not configured for this deployment "
                                   f"({', '.join(missing)} missing)")
        request = self.request(job)
        try:
            self.client.create_training_job(**request)
        except Exception as exc:
            code = (getattr(exc, "response", None) or {}).get("Error", {}).get("Code")
            if code == "ResourceInUse":  # a retried request: the job already exists
                return request["TrainingJobName"]
            logger.error("create_training_job failed for %s: %s", job.job_id, exc)
            if code in ("ResourceLimitExceeded", "ThrottlingException"):
                raise ModelUnavailable("no training capacity is free right now (SageMaker "
                                       "quota); try again later") from exc
            raise
        return request["TrainingJobName"]

    def status(self, job: FineTuneJob) -> TrainingState:
        d = self.client.describe_training_job(TrainingJobName=job.training_job_name
                                              or self.job_name(job))
        metrics = {m["MetricName"]: float(m["Value"]) for m in d.get("FinalMetricDataList", [])
                   if "MetricName" in m and "Value" in m}
        artifact = (d.get("ModelArtifacts") or {}).get("S3ModelArtifacts", "")
        status = d.get("TrainingJobStatus", "InProgress")
        if status == "Completed" and artifact and "base_eval_loss" not in metrics:
            metrics = {**self.read_metrics(artifact), **metrics}
        return TrainingState(status=status, stage=d.get("SecondaryStatus", ""),
                             progress=1.0 if status == "Completed" else None, metrics=metrics,
                             artifact_uri=artifact, failure_reason=d.get("FailureReason"))

    def read_metrics(self, artifact_uri: str) -> dict:
        """metrics.json from inside model.tar.gz, streamed (the adapter beside it is not kept)."""
        if self._s3 is None or not artifact_uri.startswith("s3://"):
            return {}
        bucket, _, key = artifact_uri[5:].partition("/")
        try:
            body = self._s3().get_object(Bucket=bucket, Key=key)["Body"]
            with tarfile.open(fileobj=body, mode="r|gz") as archive:
                for member in archive:
                    if member.isfile() and member.name.lstrip("./") == "metrics.json":
                        return json.loads(archive.extractfile(member).read())
        except Exception:
            logger.warning("could not read metrics.json from %s", artifact_uri, exc_info=True)
        return {}

    def stop(self, job: FineTuneJob) -> None:
        self.client.stop_training_job(TrainingJobName=job.training_job_name or self.job_name(job))
