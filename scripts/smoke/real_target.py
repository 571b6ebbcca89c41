"""The real run: a stage deployed to the credentials' account, the steps against it, the
stage destroyed.

In order: credentials (as ``make preflight`` takes them: the environment or ``--profile``;
none -> the run does not start); preflight's read-only checks of the account (bootstrap,
quotas, images, inference components; the pipeline's connection is not needed for a direct
deploy); the smoke model's weights staged in S3 (``weights``); ``cdk deploy`` of the stage with
its model pointed at them (``cdk_run``); the stack's outputs; a smoke editor and their ID token
(``cognito_user``). Then the steps. Then, always (``finally``): the smoke user and its app
client removed; what the product made at run time outside CloudFormation removed, since it
would block the stack's deletion (adapter inference components on the endpoint, model
packages in the group; a training job still running is stopped); ``cdk destroy`` unless
``--keep``. Anything that could not be removed is listed for the operator.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from smoke import cdk_run, cost, weights
from smoke.lifecycle import Lifecycle
from smoke.report import CannotStart, StepFailed
from smoke.steps import REAL_WAITS

# Preflight checks a direct deploy does not need: the pipeline's source connection, and
# the weights (staged by this run after the checks).
NOT_NEEDED = ("pipeline source", "model weights")


class RealTarget(Lifecycle):
    waits = REAL_WAITS
    substitutions: tuple[str, ...] = ()

    def __init__(self, root: Path, session, *, stage: str, context: dict, model_id: str,
                 weights_dir: Path | None = None, weights_s3_uri: str | None = None,
                 region: str | None = None, profile: str | None = None, keep: bool = False,
                 runner=cdk_run.run_command, log=print):
        from cdk.config import config_from_dict

        self.root, self.session, self.stage_name = root, session, stage
        self.context, self.model_id = context, model_id
        self.weights_dir, self.weights_s3_uri = weights_dir, weights_s3_uri
        self.profile, self.keep, self.runner, self.log = profile, keep, runner, log
        if region:
            context = {**context, "stages": {**context["stages"], stage: {
                **context["stages"][stage], "region": region}}}
            self.context = context
        self.config = config_from_dict(context)
        self.stage = self.config.stage(stage)
        self.api_url = self.token = ""
        self.outputs: dict = {}
        self.left_behind: list[str] = []
        self.user = None
        self.cdk: cdk_run.CdkRun | None = None
        self._deployed_at = self._destroyed_at = None
        self._training: list[tuple[str, float]] = []

    @classmethod
    def from_args(cls, args, root: Path) -> "RealTarget":
        """Checks what the run needs before anything is made; CannotStart says what."""
        import boto3
        from botocore.exceptions import ProfileNotFound

        context = json.loads((root / "cdk.json").read_text())["context"]["noticebot"]
        if args.stage not in context["stages"]:
            raise CannotStart(f"unknown stage {args.stage!r}; cdk.json has "
                                f"{sorted(context['stages'])}")
        try:
            session = boto3.session.Session(profile_name=args.profile)
        except ProfileNotFound as exc:
            raise CannotStart(str(exc)) from None
        if session.get_credentials() is None:
            raise CannotStart(
                "credentials of a sandbox account are needed: AWS_PROFILE (or PROFILE=... / "
                "--profile), or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN), "
                "with administrator rights (the run deploys and destroys the whole stage). "
                "The account needs the CDK bootstrap and GPU quotas (make preflight). "
                "Nothing was deployed.")
        return cls(root, session, stage=args.stage, context=context, model_id=args.model_id,
                   weights_dir=args.weights_dir, weights_s3_uri=args.weights_s3_uri,
                   region=args.region, profile=args.profile, keep=args.keep)

    # -------------------------------------------------------------- lifecycle
    def start(self) -> None:
        region = self.stage.region
        account = self.session.client("sts", region_name=region).get_caller_identity()["Account"]
        if self.stage.account and self.stage.account != account:
            raise CannotStart(f"the credentials are for {account}, stage {self.stage_name} "
                                f"is for {self.stage.account}")
        self._preflight()
        uri = self.weights_s3_uri or weights.weights_uri(account, region, self.model_id)
        if not self.weights_s3_uri:
            self.log(f"staging {self.model_id} at {uri}")
            folder = weights.local_weights(self.model_id, self.weights_dir)
            weights.stage(self.session, uri, folder, region, log=self.log)
        context = cdk_run.smoke_context(self.context, self.stage_name, model_id=self.model_id,
                                        weights_s3_uri=uri)
        self.cdk = cdk_run.CdkRun(self.root, Path(tempfile.mkdtemp(prefix="smoke-cdk-")),
                                  self.stage_name, context, profile=self.profile,
                                  runner=self.runner)
        self.log(f"deploying {self.cdk.stacks} (the endpoint loads the model: 20-60 min)")
        self._deployed_at = time.monotonic()  # from here on, close() destroys
        try:
            self.outputs = self.cdk.deploy()
        except RuntimeError as exc:
            raise StepFailed(f"deploy: {exc}") from None
        self.api_url = self.outputs["ApiUrl"].rstrip("/")
        import secrets

        from smoke.cognito_user import SmokeUser

        self.user = SmokeUser(self.session.client("cognito-idp", region_name=region),
                              self.outputs["UserPoolId"],
                              workspace=f"smoke-{secrets.token_hex(4)}")
        self.token = self.user.sign_in()

    def _preflight(self) -> None:
        import preflight

        checks = preflight.run(self.session, self.config, self.stage_name)
        blocking = [c for c in checks if c.status == preflight.FAIL
                    and c.name not in NOT_NEEDED]
        if blocking:
            self.log(preflight.table(checks))
            raise CannotStart("the account is not ready: " + "; ".join(
                f"{c.name}: {c.detail} ({c.todo})" for c in blocking))

    def close(self) -> None:
        if self.user is not None:
            self.left_behind += self.user.remove()
        if self.outputs:
            self._release_runtime_resources()
        if self.cdk is not None and self._deployed_at is not None:
            if self.keep:
                self.log(f"--keep: {self.cdk.stack_name} stays deployed "
                         f"(npx cdk destroy -c stage={self.stage_name} '{self.cdk.stacks}')")
            elif self.cdk.destroy() != 0:
                self.left_behind.append(f"stack {self.cdk.stack_name}: cdk destroy failed; "
                                        "see cdk/README.md, 'Smoke test in a sandbox account'")
        if self._deployed_at is not None:
            self._destroyed_at = time.monotonic()

    def _release_runtime_resources(self) -> None:
        """What the deploy function and the API made outside CloudFormation, which blocks
        deleting the endpoint and the model package group."""
        sagemaker = self.session.client("sagemaker", region_name=self.stage.region)
        endpoint, base = self.outputs.get("ChatEndpoint"), self.outputs.get("ChatBaseComponent")
        group = self.outputs.get("ModelPackageGroup")
        prefix = f"{self.stage.prefix}-ft-"
        try:
            for job in sagemaker.list_training_jobs(NameContains=prefix)["TrainingJobSummaries"]:
                described = sagemaker.describe_training_job(TrainingJobName=job["TrainingJobName"])
                if described["TrainingJobStatus"] == "InProgress":
                    sagemaker.stop_training_job(TrainingJobName=job["TrainingJobName"])
                self._training.append((described["ResourceConfig"]["InstanceType"],
                                       float(described.get("BillableTimeInSeconds") or 0)))
        except Exception as exc:  # noqa: BLE001 - the teardown goes on
            self.left_behind.append(f"training jobs {prefix}*: {exc}")
        adapters = []
        try:
            adapters = [c["InferenceComponentName"] for c in sagemaker.list_inference_components(
                EndpointNameEquals=endpoint)["InferenceComponents"]
                if c["InferenceComponentName"] != base]
            for name in adapters:
                sagemaker.delete_inference_component(InferenceComponentName=name)
            self._wait_gone(sagemaker, endpoint, adapters)
        except Exception as exc:  # noqa: BLE001
            self.left_behind.append(f"adapter components {adapters} on {endpoint}: {exc}")
        try:
            for package in sagemaker.list_model_packages(
                    ModelPackageGroupName=group)["ModelPackageSummaryList"]:
                sagemaker.delete_model_package(ModelPackageName=package["ModelPackageArn"])
        except Exception as exc:  # noqa: BLE001
            self.left_behind.append(f"model packages in {group}: {exc}")

    def _wait_gone(self, sagemaker, endpoint: str, names: list[str],
                   timeout_s: float = 30 * 60) -> None:
        deadline = time.monotonic() + timeout_s
        while names and time.monotonic() < deadline:
            present = {c["InferenceComponentName"] for c in sagemaker.list_inference_components(
                EndpointNameEquals=endpoint)["InferenceComponents"]}
            names = [n for n in names if n in present]
            if names:
                time.sleep(15)
        if names:
            raise RuntimeError(f"still deleting after {timeout_s / 60:.0f} min")

    # -------------------------------------------------------------- the steps
    def expect_answer(self, text: str) -> None:
        """The real endpoint writes its own answers."""

    def cost(self) -> list[str]:
        if self._deployed_at is None:
            return ["nothing was deployed"]
        end = self._destroyed_at or time.monotonic()
        m, s = self.stage.model, self.stage.search
        usage = cost.Usage(
            deployed_hours=(end - self._deployed_at) / 3600,
            endpoint_instance_type=m.instance_type, endpoint_instances=m.max_instances,
            search_mode=s.mode, search_instance_type=s.instance_type,
            search_instances=s.instance_count, search_standby=s.standby_replicas,
            training=self._training)
        return cost.estimate(usage, cost.load_prices())
