"""The real target's parts that run without an account: the arguments, the missing
credentials, the CDK commands (a recording runner), the weights staging and the teardown
(hand-written AWS clients)."""

import json
from argparse import Namespace
from pathlib import Path

import pytest
from smoke import cdk_run, weights
from smoke.real_target import RealTarget
from smoke.report import CannotStart

ROOT = Path(__file__).resolve().parents[3]
CONTEXT = json.loads((ROOT / "cdk.json").read_text())["context"]["noticebot"]
URI = "s3://noticebot-weights-111122223333-us-east-1/HuggingFaceTB/SmolLM2-135M-Instruct/"


class RecordingRunner:
    def __init__(self, status=0, outputs=None):
        self.status, self.outputs, self.commands = status, outputs, []

    def __call__(self, command, cwd, env):
        self.commands.append((list(command), Path(cwd), env))
        if "deploy" in command and self.outputs is not None:
            Path(command[command.index("--outputs-file") + 1]).write_text(
                json.dumps(self.outputs))
        return self.status


def smoke_args(*argv):
    import smoke_aws

    return smoke_aws.parse_args(list(argv))


def test_real_only_options_are_refused_for_the_dry_run(capsys):
    with pytest.raises(SystemExit) as exit_:
        smoke_args("--target", "moto", "--keep", "--profile", "sbx")
    assert exit_.value.code == 2
    assert "--profile, --keep only apply to --target real" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        smoke_args("--target", "real", "--weights-s3-uri", "s3://bucket/no-slash")
    assert smoke_args("--target", "real").stage == "dev"


def test_without_credentials_the_run_says_what_it_needs_and_deploys_nothing(
        monkeypatch, tmp_path, capsys):
    import smoke_aws

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert smoke_aws.main(["--target", "real", "--stage", "dev"]) == 2
    err = capsys.readouterr().err
    assert "credentials of a sandbox account are needed" in err and "Nothing was deployed" in err
    with pytest.raises(CannotStart, match="unknown stage"):
        RealTarget.from_args(Namespace(stage="qa", profile=None), ROOT)


def test_the_run_context_points_the_stage_at_the_staged_weights_and_is_checked():
    context = cdk_run.smoke_context(CONTEXT, "dev", model_id="HuggingFaceTB/SmolLM2-135M-Instruct",
                                    weights_s3_uri=URI, region="eu-west-1")
    model = context["stages"]["dev"]["model"]
    assert (model["model_id"], model["weights_s3_uri"]) == (
        "HuggingFaceTB/SmolLM2-135M-Instruct", URI)
    assert context["stages"]["dev"]["region"] == "eu-west-1"
    assert CONTEXT["stages"]["dev"]["model"]["model_id"].startswith("meta-llama/")  # untouched
    from cdk.config import ConfigError

    with pytest.raises(ConfigError, match="weights_s3_uri"):
        cdk_run.smoke_context(CONTEXT, "dev", model_id="m", weights_s3_uri="s3://b/no-slash")


def test_deploy_and_destroy_run_the_pinned_cli_on_a_cdk_json_of_their_own(tmp_path):
    outputs = {"noticebot-dev-app": {"ApiUrl": "https://x.execute-api.us-east-1.amazonaws.com/dev/api/"}}
    runner = RecordingRunner(outputs=outputs)
    context = cdk_run.smoke_context(CONTEXT, "dev", model_id="m/x", weights_s3_uri=URI)
    run = cdk_run.CdkRun(ROOT, tmp_path / "run", "dev", context, profile="sbx", runner=runner)
    assert run.deploy() == outputs["noticebot-dev-app"]
    assert run.destroy() == 0
    (deploy, cwd, env), (destroy, _, _) = runner.commands
    assert deploy[0] == str(ROOT / "node_modules" / ".bin" / "cdk") and cwd == tmp_path / "run"
    assert deploy[1:] == ["deploy", "--no-notices", "-c", "stage=dev", "--require-approval",
                          "never", "--outputs-file", str(tmp_path / "run" / "outputs.json"),
                          "--profile", "sbx", "noticebot-dev/*"]
    assert destroy[1:] == ["destroy", "--no-notices", "-c", "stage=dev", "--force",
                           "--profile", "sbx", "noticebot-dev/*"]
    assert env["CDK_DISABLE_CLI_TELEMETRY"] == "true"
    written = json.loads((tmp_path / "run" / "cdk.json").read_text())
    repo = json.loads((ROOT / "cdk.json").read_text())
    assert written["app"] == f"cd {ROOT} && {repo['app']}"
    assert written["context"]["noticebot"]["stages"]["dev"]["model"]["weights_s3_uri"] == URI
    assert written["context"]["@aws-cdk/core:checkSecretUsage"] is True  # flags kept


def test_a_failed_deploy_raises_with_the_cli_status(tmp_path):
    run = cdk_run.CdkRun(ROOT, tmp_path, "dev", CONTEXT, runner=RecordingRunner(status=1))
    with pytest.raises(RuntimeError, match="cdk deploy exited 1"):
        run.deploy()


class FakeS3:
    def __init__(self, existing=None, bucket_exists=True):
        self.objects = dict(existing or {})
        self.bucket_exists = bucket_exists
        self.calls = []

    def head_bucket(self, Bucket):
        if not self.bucket_exists:
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "404"}}, "HeadBucket")

    def create_bucket(self, **kwargs):
        self.calls.append(("create_bucket", kwargs))

    def put_public_access_block(self, **kwargs):
        self.calls.append(("put_public_access_block", kwargs))

    def put_bucket_encryption(self, **kwargs):
        self.calls.append(("put_bucket_encryption", kwargs))

    def get_paginator(self, name):
        s3 = self

        class Pages:
            def paginate(self, Bucket, Prefix):
                return [{"Contents": [{"Key": k, "Size": v} for k, v in s3.objects.items()
                                      if k.startswith(Prefix)]}]

        return Pages()

    def upload_file(self, path, bucket, key):
        self.calls.append(("upload_file", key))
        self.objects[key] = Path(path).stat().st_size


class FakeSession:
    def __init__(self, **clients):
        self.clients = clients

    def client(self, name, region_name=None):
        return self.clients[name]


def model_folder(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    for name, size in (("config.json", 10), ("tokenizer.json", 20), ("model.safetensors", 30),
                       ("README.md", 5)):
        (folder / name).write_bytes(b"x" * size)
    return folder


def test_weights_are_staged_once_into_a_private_bucket(tmp_path):
    folder = model_folder(tmp_path)
    prefix = "HuggingFaceTB/SmolLM2-135M-Instruct/"
    s3 = FakeS3(existing={prefix + "config.json": 10}, bucket_exists=False)
    sent = weights.stage(FakeSession(s3=s3), URI, folder, "us-east-1", log=lambda m: None)
    assert sent == 2
    uploads = sorted(k for op, k in s3.calls if op == "upload_file")
    assert uploads == [prefix + "model.safetensors", prefix + "tokenizer.json"]  # no README
    assert [op for op, _ in s3.calls[:3]] == ["create_bucket", "put_public_access_block",
                                              "put_bucket_encryption"]
    assert weights.stage(FakeSession(s3=s3), URI, folder, "us-east-1", log=lambda m: None) == 0


def test_a_folder_without_safetensors_is_not_a_model(tmp_path):
    folder = model_folder(tmp_path)
    (folder / "model.safetensors").unlink()
    with pytest.raises(ValueError, match=r"no \*\.safetensors"):
        weights.weight_files(folder)
    assert weights.weights_uri("1", "us-east-1", "org/m") == "s3://noticebot-weights-1-us-east-1/org/m/"


class FakeSageMaker:
    def __init__(self):
        self.components = ["noticebot-dev-llm-base", "noticebot-dev-llm-ft-abc"]
        self.calls = []

    def list_training_jobs(self, NameContains):
        return {"TrainingJobSummaries": [{"TrainingJobName": f"{NameContains}j1"}]}

    def describe_training_job(self, TrainingJobName):
        return {"TrainingJobStatus": "InProgress", "BillableTimeInSeconds": 600,
                "ResourceConfig": {"InstanceType": "ml.g5.2xlarge"}}

    def stop_training_job(self, TrainingJobName):
        self.calls.append(("stop", TrainingJobName))

    def list_inference_components(self, EndpointNameEquals):
        return {"InferenceComponents": [{"InferenceComponentName": c} for c in self.components]}

    def delete_inference_component(self, InferenceComponentName):
        self.calls.append(("delete component", InferenceComponentName))
        self.components.remove(InferenceComponentName)

    def list_model_packages(self, ModelPackageGroupName):
        return {"ModelPackageSummaryList": [{"ModelPackageArn": "arn:package/1"}]}

    def delete_model_package(self, ModelPackageName):
        self.calls.append(("delete package", ModelPackageName))


class FakeUser:
    def __init__(self, log):
        self.log = log

    def remove(self):
        self.log.append("user removed")
        return []


@pytest.mark.parametrize("keep", [False, True])
def test_teardown_removes_what_blocks_deletion_then_destroys_unless_kept(tmp_path, keep):
    sagemaker = FakeSageMaker()
    runner = RecordingRunner()
    target = RealTarget(ROOT, FakeSession(sagemaker=sagemaker), stage="dev", context=CONTEXT,
                        model_id="m/x", keep=keep, runner=runner, log=lambda m: None)
    order = []
    target.user = FakeUser(order)
    target.outputs = {"ChatEndpoint": "noticebot-dev-llm",
                      "ChatBaseComponent": "noticebot-dev-llm-base",
                      "ModelPackageGroup": "noticebot-dev-adapters"}
    target.cdk = cdk_run.CdkRun(ROOT, tmp_path, "dev", CONTEXT, runner=runner)
    target._deployed_at = 0.0
    target.close()
    assert order == ["user removed"]
    assert sagemaker.calls == [("stop", "noticebot-dev-ft-j1"),
                               ("delete component", "noticebot-dev-llm-ft-abc"),
                               ("delete package", "arn:package/1")]
    assert [c[0][1] for c in runner.commands] == ([] if keep else ["destroy"])
    assert target.left_behind == []
    assert any("training ml.g5.2xlarge x 600 billable s" in line for line in target.cost())
