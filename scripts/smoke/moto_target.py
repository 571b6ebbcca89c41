"""The dry run: the dev stack's AWS side on moto's server (127.0.0.1, a free port), the
product's real handlers in aws mode in front of it, driven as AWS drives them.

What runs for real: the API function's and the chat function's handlers behind a REST-API
stand-in (``api_gateway``) that verifies Cognito ID tokens; S3 presigned POSTs, the bucket's
"Object Created" events through the EventBridge rule to the ingest queue (moto's server
delivers them); the ingest handler fed by an SQS poller (the event source mapping, reporting
batch item failures); DynamoDB; Cognito (the smoke user, the token, the JWKS); the fine-tune
launcher's CreateTrainingJob and DescribeTrainingJob; the deploy handler on the training job's
state-change event, registering a model package; InvokeEndpoint answered through moto's
endpoint-results API; the embed function's handler (bge-small ONNX embeddings and the
cross-encoder's scores) behind the API's and chat's LambdaEmbedder / LambdaReranker.

What stands in (``SUBSTITUTIONS``, printed with the report) is listed there, one line each.
"""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from smoke import moto_sandbox, training_events
from smoke.lifecycle import Lifecycle
from smoke.steps import Waits

EMBED_FUNCTION = (f"arn:aws:lambda:{moto_sandbox.REGION}:{moto_sandbox.ACCOUNT}"
                  ":function:noticebot-embed:live")
SUBSTITUTIONS = [
    "OpenSearch: the local EmbeddedHybridIndex is the VectorIndex (moto has no OpenSearch "
    "data plane); the OpenSearch adapter is covered by its request-body and conformance tests",
    "Lambda Invoke (embed function): called in process with the real embed handler and its "
    "ONNX models (moto runs functions only in Docker)",
    "Lambda event source mapping: an SQS poller thread calls the ingest handler and deletes "
    "what it did not report as failed",
    "API Gateway: the product's LocalApiGateway on 127.0.0.1 with a Cognito authorizer stand-in "
    "(RS256 against the pool's JWKS, issuer, token_use, expiry); POST /api/chat to the chat "
    "function's handler, answered whole (not streamed)",
    "SageMaker training: moto completes the job at once and runs no container; when the job is "
    "created the run writes the model.tar.gz train.py would (metrics.json with losses, adapter "
    "config), then delivers the EventBridge state-change event (built from "
    "DescribeTrainingJob) to the deploy handler",
    "CreateInferenceComponent: absent from moto; answered by a stand-in that validates the "
    "request against botocore's API model and records the component InService",
    "SageMaker runtime: InvokeEndpoint answers come from moto's endpoint-results queue (answers "
    "written for the smoke questions); moto does not check that the named inference "
    "component exists, so the run checks the adapter request named the one the deploy made",
    "instance types: ml.m5.xlarge for the endpoint and training (moto's lists predate ml.g5)",
]
MOTO_WAITS = Waits(poll_s=0.2, ingest_s=90, model_s=5, training_s=60, adapter_s=5)


def _clients_class():
    from noticebot.adapters.aws.clients import AwsClients

    from smoke.stand_ins import InProcessLambda, SageMakerStandIns

    class SandboxClients(AwsClients):
        """A function's clients: moto's server, with what moto lacks served by the
        stand-ins."""

        def __init__(self, lambdas: InProcessLambda, sagemakers: list, training_output):
            super().__init__(region=moto_sandbox.REGION)
            self.lambdas, self.sagemakers = lambdas, sagemakers
            self.training_output = training_output

        def get(self, service: str):
            if service == "lambda":
                return self.lambdas
            client = super().get(service)
            if service == "sagemaker" and not isinstance(client, SageMakerStandIns):
                client = self._clients[service] = SageMakerStandIns(client,
                                                                    self.training_output)
                self.sagemakers.append(client)
            return client

    return SandboxClients, InProcessLambda


class MotoTarget(Lifecycle):
    waits = MOTO_WAITS
    substitutions = SUBSTITUTIONS

    def __init__(self):
        self.api_url = ""
        self.token = ""
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sagemakers: list = []  # the stand-ins, to read what the deploy created
        self.delivered_events: list[dict] = []
        self.background_errors: list[str] = []
        self._server = self._gateway = self._index = None

    # ------------------------------------------------------------- lifecycle
    def start(self) -> None:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.moto_url = f"http://{host}:{port}"
        # Credentials moto accepts; nothing here reaches AWS (every client has this endpoint).
        os.environ.update(AWS_ENDPOINT_URL=self.moto_url, AWS_ACCESS_KEY_ID="moto",
                          AWS_SECRET_ACCESS_KEY="moto", AWS_DEFAULT_REGION=moto_sandbox.REGION,
                          AWS_EC2_METADATA_DISABLED="true")
        os.environ.pop("AWS_PROFILE", None)
        os.environ.pop("AWS_SESSION_TOKEN", None)
        import boto3

        self.session = boto3.session.Session(region_name=moto_sandbox.REGION)
        self.sandbox = moto_sandbox.provision(self.session.client)
        os.environ.update(moto_sandbox.environment(self.sandbox))
        self._build_functions()
        self._serve_api()
        self._start_background("sqs-event-source", self._poll_ingest_queue)
        self._start_background("training-events", self._deliver_training_events)
        self._sign_in()

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(10)
        if self._gateway is not None:
            self._gateway.stop()
        if self._index is not None:
            self._index.close()
        if self._server is not None:
            self._server.stop()

    # ------------------------------------------------------------- functions
    def _build_functions(self) -> None:
        from noticebot.adapters.local.hybrid_index import EmbeddedHybridIndex
        from noticebot.bootstrap import bootstrap
        from noticebot.config import Settings
        from noticebot.handlers import embed

        SandboxClients, InProcessLambda = _clients_class()
        lambdas = InProcessLambda({EMBED_FUNCTION: embed.handler})
        self._index = EmbeddedHybridIndex(Path(tempfile.mkdtemp(prefix="smoke-index-")))
        settings = Settings.from_env()

        def function(**env):
            """One function's container over its own clients, as each Lambda has."""
            return bootstrap(replace(settings, **env), index=self._index,
                             clients=SandboxClients(lambdas, self._sagemakers,
                                                    self._write_training_output))

        # The API and chat functions ask the embed function for vectors and rerank scores;
        # the ingest function runs the embedder in process; the deploy function embeds nothing.
        self.api = function(embed_function=EMBED_FUNCTION)
        self.chat = function(embed_function=EMBED_FUNCTION)
        self.ingest = function()
        self.deploy = function()

    def _serve_api(self) -> None:
        from noticebot.entrypoints.gateway import LocalApiGateway
        from noticebot.handlers import chat_function
        from noticebot.handlers.api import chat_stream
        from noticebot.handlers.api.app import handler_for

        from noticebot.entrypoints.server import GatewayServer

        from smoke.api_gateway import CognitoAuthorizer, FunctionRoutes

        pool = self.sandbox.user_pool_id
        authorizer = CognitoAuthorizer(
            issuer=f"https://cognito-idp.{moto_sandbox.REGION}.amazonaws.com/{pool}",
            jwks_url=f"{self.moto_url}/{pool}/.well-known/jwks.json")
        routes = FunctionRoutes(handler_for(self.api),
                                lambda event, context: chat_function.respond(event, self.chat,
                                                                             context))
        gateway = LocalApiGateway(authorizer, routes, max_workers=4,
                                  stream_handler=lambda e: chat_stream.respond(e, self.chat))
        self._gateway = GatewayServer(gateway, "127.0.0.1", 0).start()
        self.api_url = f"{self._gateway.url}/api"

    def _sign_in(self) -> None:
        from smoke.cognito_user import SmokeUser

        self.user = SmokeUser(self.session.client("cognito-idp"), self.sandbox.user_pool_id,
                              workspace=f"smoke-{secrets.token_hex(4)}")
        self.token = self.user.sign_in()

    # ------------------------------------------------------------ background
    def _start_background(self, name: str, loop) -> None:
        def run():
            while not self._stop.is_set():
                try:
                    loop()
                except Exception as exc:  # noqa: BLE001 - reported with the run
                    logging.getLogger(__name__).exception("%s failed", name)
                    self.background_errors.append(f"{name}: {type(exc).__name__}: {exc}")
                self._stop.wait(self.waits.poll_s)

        thread = threading.Thread(target=run, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _poll_ingest_queue(self) -> None:
        if not hasattr(self, "_poller"):
            self._poller = moto_sandbox.SqsPoller(self.session.client("sqs"),
                                                  self.sandbox.queue_url,
                                                  self.sandbox.queue_arn, self.ingest)
        self._poller.drain()

    def _deliver_training_events(self) -> None:
        """EventBridge's part: each of this deployment's jobs that moto reports finished is
        delivered once to the deploy handler, after its artifact is where train.py puts it."""
        from noticebot.handlers import deploy

        sagemaker = self.session.client("sagemaker")
        prefix = self.sandbox.names.training_job_prefix
        delivered = {e["detail"]["TrainingJobName"] for e in self.delivered_events}
        for summary in sagemaker.list_training_jobs(NameContains=prefix)["TrainingJobSummaries"]:
            name = summary["TrainingJobName"]
            if name in delivered or summary["TrainingJobStatus"] not in (
                    "Completed", "Failed", "Stopped"):
                continue
            described = sagemaker.describe_training_job(TrainingJobName=name)
            tags = sagemaker.list_tags(ResourceArn=described["TrainingJobArn"])["Tags"]
            event = training_events.state_change_event(
                described, tags, account=moto_sandbox.ACCOUNT, region=moto_sandbox.REGION)
            result = deploy.handle(event, self.deploy)
            self.delivered_events.append(event)
            if result.get("status") != "completed":
                self.background_errors.append(f"deploy handler: {result}")

    def _write_training_output(self, job_name: str) -> None:
        """What train.py leaves behind, where SageMaker puts it (the job's model.tar.gz)."""
        described = self.session.client("sagemaker").describe_training_job(
            TrainingJobName=job_name)
        artifact = described["ModelArtifacts"]["S3ModelArtifacts"]
        bucket, _, key = artifact[len("s3://"):].partition("/")
        self.session.client("s3").put_object(Bucket=bucket, Key=key,
                                             Body=training_events.adapter_artifact())

    # -------------------------------------------------------------- the steps
    def expect_answer(self, text: str) -> None:
        moto_sandbox.queue_model_answers(text, moto_api=self.moto_url)

    def checks(self) -> list[tuple[str, Callable[[], str]]]:
        """What only the dry run can see, checked after the steps: the adapter chat reached
        the endpoint naming the component the deploy handler created; the package is
        registered; no background part failed."""
        return [("adapter request", self._check_adapter_request),
                ("model package", self._check_model_package),
                ("background", self._check_background)]

    def _check_adapter_request(self) -> str:
        from smoke.report import StepFailed

        created = {name for c in self._sagemakers for name in c.created}
        named = [r.get("x-amzn-sagemaker-inference-component")
                 for r in moto_sandbox.model_requests()]
        adapters = [n for n in named if n in created]
        if not created or not adapters:
            raise StepFailed(f"components created {sorted(created)}; requests named {named}")
        return (f"InvokeEndpoint named {adapters[0]} (created by the deploy handler); "
                f"the base chat named {named[0]}")

    def _check_model_package(self) -> str:
        from smoke.report import StepFailed

        group = self.sandbox.names.model_package_group
        packages = self.session.client("sagemaker").list_model_packages(
            ModelPackageGroupName=group)["ModelPackageSummaryList"]
        if not packages:
            raise StepFailed(f"no model package in {group}")
        return (f"{len(packages)} package(s) in {group}, "
                f"{packages[0].get('ModelApprovalStatus')}")

    def _check_background(self) -> str:
        from smoke.report import StepFailed

        if self.background_errors:
            raise StepFailed("; ".join(self.background_errors[:3]))
        return (f"{len(self.delivered_events)} training event(s) delivered, no errors in the "
                "poller or the event delivery")

    def cost(self) -> list[str]:
        return []
