"""The release pipeline (CDK Pipelines on CodePipeline V2).

    Source   the repository behind the CodeConnections connection (pipeline.connection_arn, or
             one this stack creates when it is "": pending until approved in the console)
    Build    installs, runs the project's tests (`make test`, which includes tests/cdk: cdk-nag
             and cfn-lint) and `npx cdk synth` (the pinned CLI from package-lock.json)
    Update   self-mutation: the pipeline updates itself from the new cloud assembly
    Assets   Lambda bundles (and any other assets) published to the bootstrap buckets
    dev      deploys stage dev
    prod     after a manual approval (pipeline.approval_before), deploys stage prod

Stages are the same NoticebotStage class the operators deploy by hand; they differ only by their
config. The stacks keep their names ({prefix}-app), so `cdk deploy -c stage=dev` and the pipeline
manage the same CloudFormation stack.

Artifacts: CodePipeline hands the whole cloud assembly (templates and every asset, about
190 MB zipped today, mostly the Lambda bundles) to the CloudFormation deploy actions, whose
input artifacts may not exceed 256 MB; tests/cdk/test_cdk_pipeline_artifact.py measures the
zipped assembly of the real bundles against a budget below that (cdk/README.md says what to
do when it grows).

Resource '*': CDK Pipelines writes two of its generated grants with Resource '*'. Both can be
named, so `_scope_generated_grants` narrows them after the pipeline is built: self-mutation's
cloudformation:DescribeStacks to the pipeline stack and the CDK bootstrap stack, its
s3:ListBucket to the bootstrap bucket; the asset publishing role's CodeBuild actions to the
asset publishing projects.
"""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codestarconnections as connections
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import pipelines
from constructs import Construct

from cdk.config import AppConfig
from cdk.nag import acknowledge, acknowledge_wildcard
from cdk.stacks.app_stack import NoticebotStage

ROOT = Path(__file__).resolve().parents[2]


def cli_version() -> str:
    """The CDK CLI the pipeline installs for self-mutation: the package.json pin."""
    return json.loads((ROOT / "package.json").read_text())["devDependencies"]["aws-cdk"]


# The build runs on the same platform as the dev machines (Debian bookworm: Python 3.11, Node 20,
# Debian's chromium for the app's browser tests, tesseract for OCR), from the public ECR mirror
# of the Docker official image (no Docker Hub rate limits). CodeBuild's own images are Ubuntu,
# where chromium is a snap stub and Playwright cannot drive it.
BUILD_IMAGE = "public.ecr.aws/docker/library/node:20-bookworm"
# Bookworm's Python is 3.11; the Lambda bundles are compiled to bytecode by the runtime's
# CPython 3.12 (scripts/build_lambda_bundles.py), which uv installs (a standalone build).
UV_VERSION = "0.13.9"
INSTALL_COMMANDS = [
    "apt-get update -qq",
    "apt-get install -y -qq --no-install-recommends python3-venv python3-dev cmake chromium",
    "bash scripts/install_system_packages.sh",
    f"python3 -m venv /opt/uv && /opt/uv/bin/pip install -q uv=={UV_VERSION}",
    "/opt/uv/bin/uv python install 3.12",
    'ln -sf "$(/opt/uv/bin/uv python find 3.12)" /usr/local/bin/python3.12',
]
# What only built bundles can show, checked on the ones just built (`make test` skips these
# tests: building every bundle from wheels would take minutes of the suite's budget): the
# assembly the deploy actions receive, against their 256 MB input limit, and each bundle's
# SDK pins, botocore models and unzipped size.
ARTIFACT_CHECK = ("NOTICEBOT_ASSEMBLY=cdk.out NOTICEBOT_REQUIRE_BUNDLES=1 "
                  ".venv/bin/python -m pytest -q tests/cdk/test_cdk_pipeline_artifact.py "
                  "tests/cdk/test_cdk_bundle_sdk.py -k 'zipped or built'")
SYNTH_COMMANDS = [
    "npm ci",
    "make test",  # the whole suite, tests/cdk included (cdk-nag, cfn-lint, assertions)
    "npx cdk synth --no-notices",  # the pinned CLI; cdk.json builds the Lambda bundles first
    ARTIFACT_CHECK,
]


class PipelineStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, *, config: AppConfig, assets_root: str,
                 **kwargs) -> None:
        p = config.pipeline
        env = cdk.Environment(account=p.account or None, region=p.region)
        super().__init__(scope, id, env=env,
                         description=f"{config.project}: release pipeline (tests, synth, deploy)",
                         **kwargs)
        self.connection = None
        connection_arn = p.connection_arn
        if not connection_arn:
            # Created PENDING: someone with access to the repository approves it once in the
            # console (Developer Tools > Settings > Connections > Update pending connection);
            # until then the pipeline's source stage fails and nothing is deployed.
            self.connection = connections.CfnConnection(
                self, "SourceConnection", connection_name=f"{config.project}-source",
                provider_type=p.connection_provider)
            connection_arn = self.connection.attr_connection_arn
            cdk.CfnOutput(self, "SourceConnectionArn", value=connection_arn,
                          description="Approve this connection in the console before the "
                                      "pipeline can read the repository (it starts PENDING)")
        source = pipelines.CodePipelineSource.connection(
            p.repository, p.branch, connection_arn=connection_arn, trigger_on_push=True)
        synth = pipelines.CodeBuildStep(
            "Build", input=source, install_commands=INSTALL_COMMANDS, commands=SYNTH_COMMANDS,
            primary_output_directory="cdk.out",
            env={"CDK_DISABLE_CLI_TELEMETRY": "true",
                 "NOTICEBOT_REQUIRE_BYTECODE": "1",
                 "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
                 "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
            build_environment=codebuild.BuildEnvironment(
                build_image=codebuild.LinuxBuildImage.from_docker_registry(BUILD_IMAGE),
                compute_type=codebuild.ComputeType.LARGE),
            timeout=cdk.Duration.minutes(60))
        # Artifacts (the source, the cloud assembly) at rest under a customer key, in a bucket
        # with access logs; the same key encrypts the CodeBuild projects' outputs and lets a
        # stage in another account read the artifacts.
        self.artifact_key = kms.Key(self, "ArtifactKey", enable_key_rotation=True,
                                    alias=f"alias/{config.project}-pipeline-artifacts",
                                    description=f"{config.project}: pipeline artifacts")
        self.access_logs = s3.Bucket(
            self, "ArtifactAccessLogs", encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL, enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=cdk.Duration.days(90))])
        self.artifact_bucket = s3.Bucket(
            self, "Artifacts", encryption=s3.BucketEncryption.KMS, encryption_key=self.artifact_key,
            bucket_key_enabled=True, block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True, object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_logs, server_access_logs_prefix="artifacts/",
            lifecycle_rules=[s3.LifecycleRule(expiration=cdk.Duration.days(30))],
            removal_policy=cdk.RemovalPolicy.DESTROY)
        self.pipeline = pipelines.CodePipeline(
            self, "Pipeline", pipeline_name=f"{config.project}-release", synth=synth,
            self_mutation=True, cli_version=cli_version(), docker_enabled_for_synth=False,
            artifact_bucket=self.artifact_bucket,
            code_build_defaults=pipelines.CodeBuildOptions(
                partial_build_spec=None,
                build_environment=codebuild.BuildEnvironment(
                    build_image=codebuild.LinuxBuildImage.STANDARD_7_0)),
            publish_assets_in_parallel=False)
        self.stages: dict[str, NoticebotStage] = {}
        for name in p.stages:
            stage = NoticebotStage(self, name, config=config.stage(name), assets_root=assets_root)
            pre = []
            if name in p.approval_before:
                pre.append(pipelines.ManualApprovalStep(
                    f"Promote-{name}", comment=f"Deploy to {name}? Check the previous stage first."))
            self.pipeline.add_stage(stage, pre=pre)
            self.stages[name] = stage
        self.pipeline.build_pipeline()
        self._scope_generated_grants()
        self._acknowledge_pipeline_internals()

    def _scope_generated_grants(self) -> None:
        """Replaces the Resource '*' of CDK Pipelines' two generated grants that AWS lets us
        scope (see the module docstring). Each override is found by its action set in the
        resolved policy, so a CDK upgrade that moves or changes them fails the IAM test
        (tests/cdk/test_cdk_iam.py) instead of silently keeping the '*'."""
        stack = cdk.Stack.of(self)
        qualifier = self.synthesizer.bootstrap_qualifier or \
            cdk.DefaultStackSynthesizer.DEFAULT_QUALIFIER
        stacks = [stack.format_arn(service="cloudformation", resource="stack",
                                   resource_name=f"{name}/*")
                  for name in (self.stack_name, "CDKToolkit")]
        bootstrap_bucket = (f"arn:{stack.partition}:s3:::cdk-{qualifier}-assets-"
                            f"{stack.account}-{stack.region}")
        mutation = self.pipeline.self_mutation_project.role
        self._override_star(mutation, {"cloudformation:DescribeStacks", "s3:ListBucket"},
                            stacks + [bootstrap_bucket])
        assets = self.pipeline.node.find_child("Assets")
        projects = [c.project_arn for c in assets.node.find_all()
                    if isinstance(c, codebuild.Project)]
        file_role = assets.node.find_child("FileRole")
        self._override_star(file_role, {"codebuild:BatchGetBuilds", "codebuild:StartBuild",
                                        "codebuild:StopBuild"}, projects)
        self.scoped_generated_grants = {"self-mutation": stacks + [bootstrap_bucket],
                                        "asset-publishing": projects}

    @staticmethod
    def _override_star(role: iam.IRole, actions: set[str], resources: list[str]) -> None:
        """Writes the role's default policy back with the one statement of ``actions`` on
        Resource '*' naming ``resources``. The whole document is replaced (not a property
        override) so that what cdk-nag checks is what the template says; the pipeline is
        built by then, so nothing adds to the policy afterwards."""
        policy = role.node.find_child("DefaultPolicy").node.default_child
        stack = cdk.Stack.of(role)
        document = stack.resolve(policy.policy_document)
        for statement in document["Statement"]:
            found = statement["Action"]
            found = {found} if isinstance(found, str) else set(found)
            if found == actions and statement.get("Resource") == "*":
                statement["Resource"] = stack.resolve(resources)
                policy.policy_document = document
                return
        raise ValueError(f"no Resource '*' statement of {sorted(actions)} in {role.node.path}: "
                         "CDK Pipelines changed its grants; review _scope_generated_grants")

    def _acknowledge_pipeline_internals(self) -> None:
        """CDK Pipelines generates these roles and policies; each wildcard below is scoped by CDK
        to the pipeline's own bucket, key, projects or bootstrap roles, as each reason says."""
        pipeline = self.pipeline
        bucket = self.artifact_bucket
        artifacts = ("CDK Pipelines grants its roles access to the pipeline's own artifact bucket "
                     "(grantRead/grantReadWrite): the wildcard is CDK's action group on that one "
                     "bucket and its objects, which hold only this pipeline's artifacts.")
        for action in ("s3:GetObject*", "s3:GetBucket*", "s3:List*", "s3:DeleteObject*",
                       "s3:Abort*"):
            acknowledge(pipeline, f"AwsSolutions-IAM5[Action::{action}]", artifacts)
        acknowledge_wildcard(pipeline, bucket.arn_for_objects("*"), artifacts)
        key = ("CDK grants the artifact key with its action groups (GenerateDataKey*, ReEncrypt*) "
               "so roles can write and re-encrypt artifacts; the grant names the one artifact key.")
        for action in ("kms:GenerateDataKey*", "kms:ReEncrypt*"):
            acknowledge(pipeline, f"AwsSolutions-IAM5[Action::{action}]", key)

        stack = cdk.Stack.of(self)
        projects = [pipeline.synth_project, pipeline.self_mutation_project]
        for project in projects:
            name = project.project_name
            acknowledge_wildcard(
                project, stack.format_arn(service="logs", resource="log-group",
                                          resource_name=f"/aws/codebuild/{name}:*",
                                          arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME),
                "CodeBuild writes each build's log streams (named per build) into this project's "
                "own log group /aws/codebuild/PROJECT; the grant names that one group.")
            acknowledge_wildcard(
                project, stack.format_arn(service="codebuild", resource="report-group",
                                          resource_name=f"{name}-*"),
                "CodeBuild names the project's test report groups PROJECT-*; the grant covers only "
                "this project's report groups.")
        acknowledge(pipeline.synth_project, "AwsSolutions-CB5",
                    "The build needs the dev machines' platform (Debian: Python 3.11, Node 20, "
                    "Debian's chromium for the Playwright tests, tesseract); CodeBuild's images are "
                    "Ubuntu, where chromium is a snap stub. The image is the Docker official "
                    "node:20-bookworm from the public ECR mirror.")
        mutation = pipeline.self_mutation_project
        for arn in self.scoped_generated_grants["self-mutation"]:
            if "*" in str(stack.resolve(arn)):
                acknowledge_wildcard(mutation, arn,
                                     "Self-mutation's `cdk deploy` describes the pipeline stack "
                                     "and the CDK bootstrap stack; CloudFormation stack ARNs end "
                                     "in a generated id, so each names the stack with a * id.")
        acknowledge(mutation, "AwsSolutions-IAM5[Resource::arn:*:iam::<AWS::AccountId>:role/*]",
                    "Self-mutation may assume only the CDK bootstrap roles: the statement is "
                    "conditioned on iam:ResourceTag/aws-cdk:bootstrap-role in (deploy, "
                    "file-publishing, image-publishing), whose names carry the bootstrap qualifier.")
        assets = pipeline.node.find_child("Assets")
        file_role = assets.node.find_child("FileRole")
        acknowledge_wildcard(
            file_role, stack.format_arn(service="logs", resource="log-group",
                                        resource_name="/aws/codebuild/*",
                                        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME),
            "The asset-publishing projects are generated per asset batch, so their CodeBuild log "
            "groups are not known to the shared role; it can write CodeBuild logs only.")
        acknowledge_wildcard(
            file_role, stack.format_arn(service="codebuild", resource="report-group",
                                        resource_name="*"),
            "The asset-publishing projects are generated per asset batch, so their report groups "
            "are not known to the shared role; it has report actions only.")
