"""Training: what per-workspace fine-tuning (LoRA on LLaMA 3) needs, short of the deploy function.

    role            the SageMaker training execution role: reads tenants/*/datasets/, writes
                    tenants/*/models/, pulls one training image repository, writes its logs
    prefixes        tenants/{ws}/datasets/ (input channels) and tenants/{ws}/models/ (output)
    model packages  one model package group per stage ({prefix}-adapters), so adapters show up in
                    SageMaker Studio's model registry with their metrics
    rule            EventBridge: "SageMaker Training Job State Change" for this stage's jobs
                    (name prefix {prefix}-ft-) reaching Completed / Failed / Stopped

NOT YET WIRED: the rule's target. The fine-tune deploy function (issue 6) does not exist yet; when
its handler lands, the stack calls `training.add_deploy_target(fn)` (below), which targets it with
retries and a dead-letter queue and lets it register model packages and create adapter inference
components. Until then the rule matches and delivers nowhere. Likewise `grant_launch(grantee)`
is for the fine-tune API route, which is not in the API yet.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cdk import images
from cdk.config import StageConfig
from cdk.constructs.storage import DATASET_KEYS, MODEL_KEYS, TENANTS_PREFIX, Storage
from cdk.nag import acknowledge, acknowledge_wildcard

DATASETS_PREFIX = "tenants/{workspace}/datasets/"
MODELS_PREFIX = "tenants/{workspace}/models/"
FINAL_STATES = ["Completed", "Failed", "Stopped"]


class Training(Construct):
    """Exposes `role`, `job_name_prefix`, `model_package_group`, `model_package_group_name`,
    `state_change_rule`, `datasets_prefix`, `models_prefix`, `add_deploy_target(fn)`,
    `grant_launch(grantee)`."""

    def __init__(self, scope: Construct, id: str, *, config: StageConfig, storage: Storage) -> None:
        super().__init__(scope, id)
        stack = cdk.Stack.of(self)
        self._storage = storage
        self.datasets_prefix = DATASETS_PREFIX
        self.models_prefix = MODELS_PREFIX
        self.job_name_prefix = f"{config.prefix}-ft-"

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
            resources=[images.repository_arn(config.training.image_repository, config.region,
                                             stack.partition)]))
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
            description=f"{config.prefix}: a workspace fine-tune finished (target: deploy function, "
                        "issue 6)",
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

    def add_deploy_target(self, fn: lambda_.IFunction) -> sqs.Queue:
        """Targets the fine-tune deploy function (issue 6) and grants what it needs here.
        Returns the dead-letter queue for events it could not take."""
        dlq = sqs.Queue(self, "DeployDeadLetters", enforce_ssl=True,
                        encryption=sqs.QueueEncryption.SQS_MANAGED,
                        retention_period=cdk.Duration.days(14))
        self.state_change_rule.add_target(targets.LambdaFunction(
            fn, dead_letter_queue=dlq, retry_attempts=4, max_event_age=cdk.Duration.hours(6)))
        fn.add_to_role_policy(iam.PolicyStatement(
            sid="RegisterAdapters", actions=["sagemaker:CreateModelPackage"],
            resources=[self.model_package_group.attr_model_package_group_arn]))
        return dlq

    def grant_launch(self, grantee: iam.IGrantable) -> None:
        """For the fine-tune API route (issue 6): start, watch and stop this stage's jobs."""
        stack = cdk.Stack.of(self)
        jobs = stack.format_arn(service="sagemaker", resource="training-job",
                                resource_name=f"{self.job_name_prefix}*")
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
