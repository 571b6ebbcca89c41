"""Models: LLaMA 3 Instruct on a SageMaker real-time endpoint, hosted as a base inference component.

    endpoint {prefix}-llm  (instances managed by SageMaker: ManagedInstanceScaling)
      └─ inference component {prefix}-llm-base   the base model (LMI container, LoRA enabled)
      └─ inference components {prefix}-llm-ft-...  per-workspace LoRA adapters, created at run
                                                  time by the fine-tune deploy function with
                                                  BaseInferenceComponentName = the base component

The base model is never copied per tenant: an adapter component carries only the adapter
artifact (tenants/{ws}/models/...), and the LMI container serves it on the base model's GPU.

Scaling: Application Auto Scaling on the base component's copy count (target tracking on
invocations per copy). With model.min_copies = 0 the component scales to zero when idle and the
endpoint's managed instance scaling releases the GPU instance; a request that finds no copy
fails with a NoCapacity error, and the step policy on NoCapacityInvocationFailures brings one
copy back (minutes: instance start + model load). The chat adapter should say "the model is
starting" on that error. Idle stages pay nothing for the GPU this way.

The container image is the regional Deep Learning Container for config.model.container
(cdk/images.py), or config.model.image_uri verbatim.
"""

from __future__ import annotations

import re

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct
from noticebot.domain.tuning import MAX_LORA_RANK

from cdk import images
from cdk.config import StageConfig
from cdk.constructs.storage import MODEL_KEYS, Storage
from cdk.nag import acknowledge, acknowledge_wildcard

VARIANT = "AllTraffic"
STARTUP_TIMEOUT_S = 3600  # download + load of an 8B model on a cold instance
# Instance families with local NVMe instance storage: SageMaker rejects an endpoint-config
# KmsKeyId for them (the instance store is encrypted by the hardware).
LOCAL_NVME_FAMILIES = {"g4dn", "g5", "g6", "g6e", "p3dn", "p4d", "p4de", "p5", "p5e", "p5en",
                       "m5d", "c5d", "r5d", "inf2", "trn1"}


def _family(instance_type: str) -> str:
    return instance_type.split(".")[1]


def staged_weights_uri(config: StageConfig, stack: cdk.Stack) -> str:
    """model.weights_s3_uri for this stack ({account} / {region} filled), "" if not staged."""
    return config.model.weights_uri(account=stack.account, region=stack.region)


def container_environment(config: StageConfig) -> dict[str, str]:
    m = config.model
    model_ref = "/opt/ml/model" if m.weights_s3_uri else m.model_id
    if m.container == "lmi":
        return {
            "HF_MODEL_ID": model_ref,
            "OPTION_ROLLING_BATCH": "lmi-dist",
            "OPTION_TENSOR_PARALLEL_DEGREE": str(m.accelerators_per_copy),
            "OPTION_MAX_MODEL_LEN": str(m.max_model_len),
            "OPTION_DTYPE": "fp16",
            # Adapters (adapter inference components) share the base model's GPU.
            "OPTION_ENABLE_LORA": "true",
            "OPTION_MAX_LORAS": str(m.max_loras),
            # The one limit training also keeps (noticebot.domain.tuning.MAX_LORA_RANK).
            "OPTION_MAX_LORA_RANK": str(MAX_LORA_RANK),
            "OPTION_MAX_CPU_LORAS": str(4 * m.max_loras),
            "SERVING_FAIL_FAST": "true",
        }
    # TGI serves the base model; it loads LoRA adapters only at start-up, not as inference
    # components, so per-workspace adapters need the LMI container.
    return {
        "HF_MODEL_ID": model_ref,
        "SM_NUM_GPUS": str(m.accelerators_per_copy),
        "MAX_TOTAL_TOKENS": str(m.max_model_len),
        "MAX_INPUT_TOKENS": str(max(1024, m.max_model_len - 1024)),
    }


class Models(Construct):
    """Exposes `endpoint_name`, `base_component_name`, `component_name_prefix`,
    `adapter_component_prefix`, `execution_role`, `image_uri`, `endpoint`, `base_component`,
    `grant_invoke(grantee)`, `grant_adapter_deployment(grantee)`."""

    def __init__(self, scope: Construct, id: str, *, config: StageConfig, storage: Storage) -> None:
        super().__init__(scope, id)
        m = config.model
        stack = cdk.Stack.of(self)
        self.endpoint_name = f"{config.prefix}-llm"
        self.base_component_name = f"{config.prefix}-llm-base"
        # Every component of the endpoint is named {endpoint}-...: the base one and the adapters.
        self.component_name_prefix = f"{self.endpoint_name}-"
        # Adapters: {endpoint}-{model_id} with model_id = ft-{job id} (noticebot.services.models
        # .model_id_for, adapters.aws.sagemaker_registry.adapter_name). The deploy function may
        # create and delete only these, never the base component.
        self.adapter_component_prefix = f"{self.endpoint_name}-ft-"
        self.image_uri = m.image_uri or images.image_uri(m.container, m.image_tag, config.region)
        image_account, image_region, repository = images.parse_image_uri(self.image_uri)

        # ---- execution role: pull the image, read weights and adapters, write its logs --------
        self.execution_role = iam.Role(
            self, "ExecutionRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"{self.endpoint_name}: hosts the base model and workspace adapters")
        role = self.execution_role
        role.add_to_policy(iam.PolicyStatement(
            sid="EcrAuth", actions=["ecr:GetAuthorizationToken"], resources=["*"]))
        role.add_to_policy(iam.PolicyStatement(
            sid="PullServingImage",
            actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                     "ecr:BatchCheckLayerAvailability"],
            resources=[f"arn:{stack.partition}:ecr:{image_region}:{image_account}:repository/"
                       f"{repository}"]))
        endpoint_logs = stack.format_arn(
            service="logs", resource="log-group",
            resource_name=f"/aws/sagemaker/Endpoints/{self.endpoint_name}",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME)
        role.add_to_policy(iam.PolicyStatement(
            sid="EndpointLogs",
            actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
                     "logs:DescribeLogStreams"],
            resources=[endpoint_logs, f"{endpoint_logs}:*"]))
        role.add_to_policy(iam.PolicyStatement(
            sid="EndpointMetrics", actions=["cloudwatch:PutMetricData"], resources=["*"],
            conditions={"StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*", "AWS/SageMaker"]}}))
        role.add_to_policy(iam.PolicyStatement(
            sid="ReadAdapters", actions=["s3:GetObject"],
            resources=[storage.bucket.arn_for_objects(MODEL_KEYS)]))
        role.add_to_policy(iam.PolicyStatement(
            sid="DecryptAdapters", actions=["kms:Decrypt"], resources=[storage.key.key_arn]))
        weights_source = None
        weights_uri = staged_weights_uri(config, stack)
        if weights_uri:
            bucket, prefix = re.fullmatch(r"s3://([^/]+)/(.*)", weights_uri).groups()
            role.add_to_policy(iam.PolicyStatement(
                sid="ReadBaseWeights", actions=["s3:GetObject"],
                resources=[f"arn:{stack.partition}:s3:::{bucket}/{prefix}*"]))
            role.add_to_policy(iam.PolicyStatement(
                sid="ListBaseWeights", actions=["s3:ListBucket"],
                resources=[f"arn:{stack.partition}:s3:::{bucket}"],
                conditions={"StringLike": {"s3:prefix": [f"{prefix}*"]}}))
            weights_source = sagemaker.CfnModel.ModelDataSourceProperty(
                s3_data_source=sagemaker.CfnModel.S3DataSourceProperty(
                    s3_uri=weights_uri, s3_data_type="S3Prefix", compression_type="None"))

        # ---- model, endpoint config, endpoint, base inference component -----------------------
        self.model = sagemaker.CfnModel(
            self, "BaseModel", execution_role_arn=role.role_arn,
            primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(
                image=self.image_uri, environment=container_environment(config),
                model_data_source=weights_source),
            # Weights from S3: the container needs no internet. From the hub: it must download.
            enable_network_isolation=bool(weights_uri))
        # SageMaker checks the role's permissions when the model and config are created: wait
        # for the role's policy (the role itself is already implied by the GetAtt).
        role_policy = role.node.find_child("DefaultPolicy").node.default_child
        self.model.add_resource_dependency(role_policy)

        nvme = _family(m.instance_type) in LOCAL_NVME_FAMILIES
        variant = sagemaker.CfnEndpointConfig.ProductionVariantProperty(
            variant_name=VARIANT, instance_type=m.instance_type, initial_instance_count=1,
            managed_instance_scaling=sagemaker.CfnEndpointConfig.ManagedInstanceScalingProperty(
                status="ENABLED", min_instance_count=0 if m.scale_to_zero else 1,
                max_instance_count=m.max_instances),
            routing_config=sagemaker.CfnEndpointConfig.RoutingConfigProperty(
                routing_strategy="LEAST_OUTSTANDING_REQUESTS"),
            inference_ami_version=m.inference_ami_version or None)
        self.endpoint_config = sagemaker.CfnEndpointConfig(
            self, "EndpointConfig", execution_role_arn=role.role_arn,
            production_variants=[variant], kms_key_id=None if nvme else storage.key.key_arn)
        self.endpoint_config.add_resource_dependency(role_policy)
        self.endpoint = sagemaker.CfnEndpoint(
            self, "Endpoint", endpoint_name=self.endpoint_name,
            endpoint_config_name=self.endpoint_config.attr_endpoint_config_name)

        self.base_component = sagemaker.CfnInferenceComponent(
            self, "BaseComponent", inference_component_name=self.base_component_name,
            endpoint_name=self.endpoint.attr_endpoint_name, variant_name=VARIANT,
            specification=sagemaker.CfnInferenceComponent.InferenceComponentSpecificationProperty(
                model_name=self.model.attr_model_name,
                compute_resource_requirements=sagemaker.CfnInferenceComponent
                .InferenceComponentComputeResourceRequirementsProperty(
                    number_of_accelerator_devices_required=m.accelerators_per_copy,
                    min_memory_required_in_mb=m.memory_mb_per_copy),
                startup_parameters=sagemaker.CfnInferenceComponent
                .InferenceComponentStartupParametersProperty(
                    model_data_download_timeout_in_seconds=STARTUP_TIMEOUT_S,
                    container_startup_health_check_timeout_in_seconds=STARTUP_TIMEOUT_S)),
            runtime_config=sagemaker.CfnInferenceComponent.InferenceComponentRuntimeConfigProperty(
                copy_count=max(1, m.min_copies)))

        # ---- copy-count autoscaling (service-linked role: no RoleARN) ------------------------
        self.scalable_target = appscaling.CfnScalableTarget(
            self, "CopyCount", service_namespace="sagemaker",
            resource_id=f"inference-component/{self.base_component_name}",
            scalable_dimension="sagemaker:inference-component:DesiredCopyCount",
            min_capacity=m.min_copies, max_capacity=m.max_copies)
        self.scalable_target.add_resource_dependency(self.base_component)
        appscaling.CfnScalingPolicy(
            self, "TrackInvocations", policy_name=f"{self.base_component_name}-invocations",
            policy_type="TargetTrackingScaling", scaling_target_id=self.scalable_target.ref,
            target_tracking_scaling_policy_configuration=appscaling.CfnScalingPolicy
            .TargetTrackingScalingPolicyConfigurationProperty(
                target_value=float(m.invocations_per_copy_target),
                predefined_metric_specification=appscaling.CfnScalingPolicy
                .PredefinedMetricSpecificationProperty(
                    predefined_metric_type="SageMakerInferenceComponentInvocationsPerCopy"),
                scale_in_cooldown=600, scale_out_cooldown=120))
        self.scale_from_zero_alarm = None
        if m.scale_to_zero:
            from_zero = appscaling.CfnScalingPolicy(
                self, "ScaleFromZero", policy_name=f"{self.base_component_name}-from-zero",
                policy_type="StepScaling", scaling_target_id=self.scalable_target.ref,
                step_scaling_policy_configuration=appscaling.CfnScalingPolicy
                .StepScalingPolicyConfigurationProperty(
                    adjustment_type="ChangeInCapacity", cooldown=300,
                    metric_aggregation_type="Maximum",
                    step_adjustments=[appscaling.CfnScalingPolicy.StepAdjustmentProperty(
                        metric_interval_lower_bound=0, scaling_adjustment=1)]))
            self.scale_from_zero_alarm = cloudwatch.CfnAlarm(
                self, "NoCapacityAlarm",
                alarm_description=f"{self.base_component_name}: a request found no copy; add one",
                namespace="AWS/SageMaker", metric_name="NoCapacityInvocationFailures",
                dimensions=[cloudwatch.CfnAlarm.DimensionProperty(
                    name="InferenceComponentName", value=self.base_component_name)],
                statistic="Maximum", period=60, evaluation_periods=1, threshold=1,
                comparison_operator="GreaterThanOrEqualToThreshold",
                treat_missing_data="missing", alarm_actions=[from_zero.attr_arn])
            self.scale_from_zero_alarm.add_resource_dependency(self.base_component)

        acknowledge(role, "AwsSolutions-IAM5[Resource::*]",
                    "ecr:GetAuthorizationToken and cloudwatch:PutMetricData have no resource-level "
                    "permissions (AWS requires '*'); PutMetricData is limited to SageMaker metric "
                    "namespaces by condition, image pulls are limited to one DLC repository.")
        acknowledge_wildcard(role, storage.bucket.arn_for_objects(MODEL_KEYS),
                             "Adapters live under tenants/{workspace}/models/; workspaces are "
                             "created at run time, so the workspace segment is a wildcard. The "
                             "role reads nothing else of the bucket.")
        acknowledge_wildcard(role, f"{endpoint_logs}:*",
                             "The log streams of this endpoint's own log group are named by "
                             "SageMaker per instance and component; the grant names one log group.")
        if weights_uri:
            acknowledge_wildcard(role, f"arn:{stack.partition}:s3:::{bucket}/{prefix}*",
                                 "The base model's weights are many files under one S3 prefix "
                                 "(read-only).")

    def grant_invoke(self, grantee: iam.IGrantable) -> None:
        """Invoke the endpoint: the base component and this stage's adapter components."""
        stack = cdk.Stack.of(self)
        components = stack.format_arn(service="sagemaker", resource="inference-component",
                                      resource_name=f"{self.component_name_prefix}*")
        grantee.grant_principal.add_to_principal_policy(iam.PolicyStatement(
            sid="InvokeChatModel",
            actions=["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"],
            resources=[stack.format_arn(service="sagemaker", resource="endpoint",
                                        resource_name=self.endpoint_name), components]))
        acknowledge_wildcard(grantee, components,
                             "Workspace adapter components are created at run time by the "
                             "fine-tune deploy function, named {endpoint}-...; the grant covers "
                             "this stage's endpoint's components only.")

    def grant_adapter_deployment(self, grantee: iam.IGrantable) -> None:
        """The fine-tune deploy function: create (with tags), describe and delete this stage's
        adapter components on this endpoint. No iam:PassRole: CreateInferenceComponent takes
        no role; the adapter artifact is read by the endpoint's execution role (ReadAdapters)."""
        stack = cdk.Stack.of(self)
        adapters = stack.format_arn(service="sagemaker", resource="inference-component",
                                    resource_name=f"{self.adapter_component_prefix}*")
        endpoint = stack.format_arn(service="sagemaker", resource="endpoint",
                                    resource_name=self.endpoint_name)
        grantee.grant_principal.add_to_principal_policy(iam.PolicyStatement(
            sid="CreateAdapterComponents", actions=["sagemaker:CreateInferenceComponent"],
            resources=[endpoint, adapters]))
        grantee.grant_principal.add_to_principal_policy(iam.PolicyStatement(
            sid="ManageAdapterComponents",
            actions=["sagemaker:DescribeInferenceComponent", "sagemaker:DeleteInferenceComponent",
                     "sagemaker:AddTags"],
            resources=[adapters]))
        acknowledge_wildcard(grantee, adapters,
                             "Adapter components are created per fine-tuned model at run time, "
                             "named {endpoint}-ft-{job id}; the grant covers this stage's "
                             "endpoint's adapters only, not its base component.")
