"""Training: what per-workspace fine-tuning (LoRA on LLaMA 3) needs on AWS.

    role            the SageMaker training execution role: reads tenants/*/datasets/ and the
                    training source, writes tenants/*/models/, pulls one training image
                    repository, writes its logs (and reads the staged base weights, if any)
    source          sagemaker/training/*.py + requirements.txt as sourcedir.tar.gz, an S3 asset
                    (`sagemaker_submit_directory` of every job; cdk/assets.py builds it)
    image           the Hugging Face PyTorch training DLC of the region (training.image_repository
                    + image_tag), or training.image_uri verbatim
    prefixes        tenants/{ws}/datasets/ (input channels) and tenants/{ws}/models/ (output),
                    laid out by noticebot.domain.keys
    model packages  one model package group per stage ({prefix}-adapters), so adapters show up in
                    SageMaker Studio's model registry with their metrics
    rule            EventBridge: "SageMaker Training Job State Change" for this stage's jobs
                    (name prefix {prefix}-ft-) reaching Completed / Failed / Stopped, delivered to
                    the fine-tune deploy function (`add_deploy_target`)

The API function launches jobs (`grant_launch`); the deploy function (noticebot.handlers.deploy)
registers the adapter as a model package and creates its inference component.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from noticebot.domain.keys import TENANTS_PREFIX
from noticebot.environment import EnvVar

from cdk import images
from cdk.assets import training_source_archive
from cdk.config import StageConfig
from cdk.constructs.models import staged_weights_uri
from cdk.constructs.storage import DATASET_KEYS, MODEL_KEYS, Storage
from cdk.nag import acknowledge, acknowledge_wildcard

FINAL_STATES = ["Completed", "Failed", "Stopped"]


def training_image_uri(config: StageConfig) -> str:
    """The image training jobs run: training.image_uri, else the region's DLC."""
    return images.training_image_uri(config.training, config.region)


class Training(Construct):
    """Exposes `role`, `job_name_prefix`, `image_uri`, `source` (the S3 asset),
    `model_package_group`, `model_package_group_name`, `state_change_rule`, `job_arns`, `package_arns`, `environment()`, `add_deploy_target(fn)`,
    `grant_launch(grantee)`, `grant_approve(grantee)`."""

    def __init__(self, scope: Construct, id: str, *, config: StageConfig, storage: Storage) -> None:
        super().__init__(scope, id)
        stack = cdk.Stack.of(self)
        self._config = config
        self._storage = storage
        self.job_name_prefix = f"{config.prefix}-ft-"
        self.image_uri = training_image_uri(config)
        image_account, image_region, repository = images.parse_image_uri(self.image_uri)
        # sourcedir.tar.gz (train.py and its modules, requirements.txt) in the bootstrap bucket.
        self.source = s3_assets.Asset(self, "Source", path=str(training_source_archive()))

        self.role = iam.Role(
            self, "ExecutionRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"{config.prefix}: SageMaker training jobs (workspace LoRA fine-tunes)")
        role = self.role
        role.add_to_policy(iam.PolicyStatement(
            sid="ReadDatasets", actions=["s3:GetObject"],
            resources=[storage.bucket.arn_for_objects(DATASET_KEYS)]))
        role.add_to_policy(iam.PolicyStatement(
            sid="WriteModels", actions=["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"],
            resources=[storage.bucket.arn_for_objects(MODEL_KEYS)]))
        role.add_to_policy(iam.PolicyStatement(
            sid="ListTenantPrefixes", actions=["s3:ListBucket"],
            resources=[storage.bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [f"{TENANTS_PREFIX}*"]}}))
        role.add_to_policy(iam.PolicyStatement(
            sid="DataKey", actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=[storage.key.key_arn]))
        role.add_to_policy(iam.PolicyStatement(
            sid="EcrAuth", actions=["ecr:GetAuthorizationToken"], resources=["*"]))
        role.add_to_policy(iam.PolicyStatement(
            sid="PullTrainingImage",
            actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                     "ecr:BatchCheckLayerAvailability"],
            resources=[f"arn:{stack.partition}:ecr:{image_region}:{image_account}:repository/"
                       f"{repository}"]))
        # The training toolkit downloads sagemaker_submit_directory with the job's role: this
        # one object of the bootstrap bucket (the asset's key is its content hash).
        role.add_to_policy(iam.PolicyStatement(
            sid="ReadTrainingSource", actions=["s3:GetObject"],
            resources=[self.source.bucket.arn_for_objects(self.source.s3_object_key)]))
        weights = self._weights(config)
        if weights:
            bucket, prefix = weights
            # The staged base model (model.weights_s3_uri) is the jobs' "model" channel.
            role.add_to_policy(iam.PolicyStatement(
                sid="ReadBaseWeights", actions=["s3:GetObject"],
                resources=[f"arn:{stack.partition}:s3:::{bucket}/{prefix}*"]))
            role.add_to_policy(iam.PolicyStatement(
                sid="ListBaseWeights", actions=["s3:ListBucket"],
                resources=[f"arn:{stack.partition}:s3:::{bucket}"],
                conditions={"StringLike": {"s3:prefix": [f"{prefix}*"]}}))
            acknowledge_wildcard(role, f"arn:{stack.partition}:s3:::{bucket}/{prefix}*",
                                 "The base model's weights are many files under one S3 prefix "
                                 "(read-only), mounted as the training jobs' model channel.")
        job_logs = stack.format_arn(service="logs", resource="log-group",
                                    resource_name="/aws/sagemaker/TrainingJobs",
                                    arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME)
        role.add_to_policy(iam.PolicyStatement(
            sid="TrainingLogs",
            actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
                     "logs:DescribeLogStreams"],
            resources=[job_logs, f"{job_logs}:log-stream:{self.job_name_prefix}*"]))
        role.add_to_policy(iam.PolicyStatement(
            sid="TrainingMetrics", actions=["cloudwatch:PutMetricData"], resources=["*"],
            conditions={"StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*"]}}))

        self.model_package_group_name = f"{config.prefix}-adapters"
        self.model_package_group = sagemaker.CfnModelPackageGroup(
            self, "ModelPackages", model_package_group_name=self.model_package_group_name,
            model_package_group_description=(
                f"{config.prefix}: per-workspace LoRA adapters of {config.model.model_id}"))

        self.state_change_rule = events.Rule(
            self, "JobStateChange",
            description=f"{config.prefix}: a workspace fine-tune finished (-> deploy function)",
            event_pattern=events.EventPattern(
                source=["aws.sagemaker"], detail_type=["SageMaker Training Job State Change"],
                detail={"TrainingJobName": [{"prefix": self.job_name_prefix}],
                        "TrainingJobStatus": FINAL_STATES}))

        for keys in (DATASET_KEYS, MODEL_KEYS):
            acknowledge_wildcard(role, storage.bucket.arn_for_objects(keys),
                                 "Datasets and adapters live under tenants/{workspace}/...; "
                                 "workspaces are created at run time, so the workspace segment is "
                                 "a wildcard. Each job gets one workspace's channels and output "
                                 "path when it is launched.")
        acknowledge(role, "AwsSolutions-IAM5[Resource::*]",
                    "ecr:GetAuthorizationToken and cloudwatch:PutMetricData have no resource-level "
                    "permissions (AWS requires '*'); PutMetricData is limited to SageMaker "
                    "namespaces by condition.")
        acknowledge_wildcard(role, f"{job_logs}:log-stream:{self.job_name_prefix}*",
                             "SageMaker names each training job's log streams after the job; the "
                             "grant is limited to this stage's job-name prefix in the training "
                             "log group.")

    def _weights(self, config: StageConfig) -> tuple[str, str] | None:
        """(bucket, prefix) of model.weights_s3_uri, or None when the weights are not staged."""
        uri = staged_weights_uri(config, cdk.Stack.of(self))
        if not uri:
            return None
        bucket, _, prefix = uri[len("s3://"):].partition("/")
        return bucket, prefix

    def environment(self, *, adapter_image: str) -> dict[str, str]:
        """What the fine-tune code reads (noticebot.config.Settings.from_env), for the API
        function (launches jobs) and the deploy function (registers and deploys adapters)."""
        t, m = self._config.training, self._config.model
        env = {
            EnvVar.TRAINING_ROLE_ARN: self.role.role_arn,
            # The deploy handler ignores events of jobs outside this prefix: it must be the
            # rule's (and the launcher names jobs with it).
            EnvVar.TRAINING_JOB_PREFIX: self.job_name_prefix,
            EnvVar.TRAINING_IMAGE: self.image_uri,
            EnvVar.TRAINING_INSTANCE_TYPE: t.instance_type,
            EnvVar.TRAINING_SOURCE: self.source.s3_object_url,
            EnvVar.TRAINING_SPOT: "true" if t.spot else "false",
            EnvVar.TRAINING_MAX_RUNTIME_S: str(t.max_runtime_s),
            EnvVar.TRAINING_MAX_WAIT_S: str(t.max_wait_s),
            # Adapters must be trained on the model the endpoint serves.
            EnvVar.BASE_MODEL: m.model_id,
            EnvVar.MODEL_PACKAGE_GROUP: self.model_package_group_name,
            EnvVar.ADAPTER_IMAGE: adapter_image,
        }
        weights_uri = staged_weights_uri(self._config, cdk.Stack.of(self))
        if weights_uri:
            env[EnvVar.BASE_MODEL_S3] = weights_uri
        return env

    @property
    def job_arns(self) -> str:
        """This stage's training jobs (the launcher names each {prefix}{job id})."""
        return cdk.Stack.of(self).format_arn(service="sagemaker", resource="training-job",
                                             resource_name=f"{self.job_name_prefix}*")

    @property
    def package_arns(self) -> str:
        """The versions of this stage's adapter group (SageMaker names them {group}/{n})."""
        return cdk.Stack.of(self).format_arn(service="sagemaker", resource="model-package",
                                             resource_name=f"{self.model_package_group_name}/*")

    def add_deploy_target(self, fn: lambda_.IFunction) -> sqs.Queue:
        """Targets the fine-tune deploy function and grants what it needs of training: the
        finished job (DescribeTrainingJob) and this stage's model package group. Events the
        rule cannot deliver, and invocations that still fail after Lambda's retries, go to one
        dead-letter queue, which is returned."""
        dlq = sqs.Queue(self, "DeployDeadLetters", enforce_ssl=True,
                        encryption=sqs.QueueEncryption.SQS_MANAGED,
                        retention_period=cdk.Duration.days(14))
        acknowledge(dlq, "AwsSolutions-SQS3",
                    "This queue is itself the dead-letter queue of the fine-tune rule's target "
                    "and of the deploy function's failed asynchronous invocations; nothing "
                    "consumes it automatically, so it needs no dead-letter queue of its own.")
        self.state_change_rule.add_target(targets.LambdaFunction(
            fn, dead_letter_queue=dlq, retry_attempts=4, max_event_age=cdk.Duration.hours(6)))
        # EventBridge invokes asynchronously: an error is retried by Lambda (twice), then the
        # event lands here rather than being dropped.
        fn.configure_async_invoke(retry_attempts=2, max_event_age=cdk.Duration.hours(6),
                                  on_failure=destinations.SqsDestination(dlq))
        jobs, packages = self.job_arns, self.package_arns
        fn.add_to_role_policy(iam.PolicyStatement(
            sid="DescribeFinishedJobs", actions=["sagemaker:DescribeTrainingJob"],
            resources=[jobs]))
        # IAM evaluates Create/Describe on the model-package ARN, the group's own actions on
        # the group.
        group = self.model_package_group.attr_model_package_group_arn
        fn.add_to_role_policy(iam.PolicyStatement(
            sid="RegisterAdapters",
            actions=["sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackage",
                     "sagemaker:AddTags"],
            resources=[group, packages]))
        fn.add_to_role_policy(iam.PolicyStatement(
            sid="ReadAdapterRegistry", actions=["sagemaker:DescribeModelPackageGroup"],
            resources=[group]))
        if fn.role is not None:
            acknowledge_wildcard(fn.role, jobs, "Training jobs get a unique name per launch "
                                 "({prefix}-ft-{job id}); the deploy function only describes "
                                 "this stage's finished jobs.")
            acknowledge_wildcard(fn.role, packages, "SageMaker numbers the versions of a model "
                                 "package group itself ({group}/{n}); the grant covers the "
                                 "versions of this stage's one adapter group.")
        return dlq

    def grant_approve(self, grantee: iam.IGrantable) -> None:
        """For the model activation route: an editor who activates a version the loss rule
        kept inactive approves its model package (UpdateModelPackage on this stage's
        versions only), so the registry in Studio shows what serves the workspace."""
        packages = self.package_arns
        grantee.grant_principal.add_to_principal_policy(iam.PolicyStatement(
            sid="ApproveAdapters", actions=["sagemaker:UpdateModelPackage"],
            resources=[packages]))
        acknowledge_wildcard(grantee, packages, "SageMaker numbers the versions of a model "
                             "package group itself ({group}/{n}); the API may only approve "
                             "versions of this stage's one adapter group.")

    def grant_launch(self, grantee: iam.IGrantable) -> None:
        """For the fine-tune API route: start, watch and stop this stage's jobs."""
        jobs = self.job_arns
        grantee.grant_principal.add_to_principal_policy(iam.PolicyStatement(
            sid="TrainingJobs",
            actions=["sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob",
                     "sagemaker:StopTrainingJob", "sagemaker:AddTags"],
            resources=[jobs]))
        acknowledge_wildcard(grantee, jobs, "Training jobs get a unique name per launch; the grant "
                             "is limited to this stage's job-name prefix.")
        grantee.grant_principal.add_to_principal_policy(iam.PolicyStatement(
            sid="PassTrainingRole", actions=["iam:PassRole"], resources=[self.role.role_arn],
            conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}))
