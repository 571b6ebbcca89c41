"""The Lambda bundles carry their own AWS SDK, consistent with the urllib3 they ship.

A bundle comes first on sys.path, so when the SDK came from the runtime, the runtime's
botocore ran on the bundle's urllib3 and python-dateutil (a pairing nobody tested) and on
whatever SDK version the runtime had that month, not the one whose service models the tests
validate every request against (botocore's Stubber). Now boto3, botocore, s3transfer and
jmespath ship pinned to the test environment's versions, with only the service models the
package uses."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
from importlib import metadata

import pytest
from cdk_testlib import ROOT

from noticebot.functions import FUNCTIONS

spec = importlib.util.spec_from_file_location("noticebot_bundler_sdk",
                                              ROOT / "scripts" / "build_lambda_bundles.py")
bundler = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = bundler
spec.loader.exec_module(bundler)

# How the package asks for a client: clients.provider("x"), clients.get("x"), boto3.client("x").
CLIENT_CALL = re.compile(
    r"""(?:\.provider|clients\.get|\.client|boto3\.client)\(\s*["']([a-z0-9-]+)["']""")


def package_services() -> set[str]:
    import botocore.session

    known = set(botocore.session.get_session().get_available_services())
    found = set()
    for path in (ROOT / "lambdas" / "noticebot").rglob("*.py"):
        if "/adapters/local/" in path.as_posix() or "/model_server/" in path.as_posix():
            continue
        for name in CLIENT_CALL.findall(path.read_text()):
            if name in known:
                found.add(name)
    return found


def test_the_sdk_ships_pinned_to_the_versions_the_tests_validate_against():
    assert bundler.RUNTIME_PROVIDED == ()
    for dist in bundler.SDK_DISTS:
        assert bundler.PINS[dist] == metadata.version(dist), dist


def test_the_kept_service_models_cover_every_client_the_package_builds():
    used = package_services()
    assert {"s3", "dynamodb", "sagemaker-runtime", "lambda"} <= used
    assert used <= set(bundler.BOTOCORE_SERVICES), used - set(bundler.BOTOCORE_SERVICES)


def test_pruning_keeps_the_listed_models_and_botocores_own_files(tmp_path):
    data = tmp_path / "botocore" / "data"
    for service in ("s3", "ec2", "transcribe", "iot"):
        (data / service / "2006-03-01").mkdir(parents=True)
    (data / "endpoints.json").write_text("{}")
    (data / "partitions.json").write_text("{}")
    bundler.prune_botocore_models(tmp_path, keep=("s3", "transcribe"))
    assert sorted(p.name for p in data.iterdir()) == ["endpoints.json", "partitions.json",
                                                      "s3", "transcribe"]


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_built_bundles_carry_a_consistent_sdk(function):
    bundle = ROOT / "build" / "lambda" / function
    stamp = bundle / ".bundle.json"
    if not stamp.is_file():
        if os.environ.get("NOTICEBOT_REQUIRE_BUNDLES") == "1":  # the release build
            pytest.fail(f"{function}: no built bundle in build/lambda")
        pytest.skip("bundle not built: make bundles (the release build checks them)")
    info = json.loads(stamp.read_text())
    if info.get("pins", {}).get("botocore") is None:
        pytest.fail(f"{function}: built before the SDK shipped; rebuild (make bundles)")
    needs_sdk = "aws" in FUNCTIONS[function].extras
    assert (bundle / "botocore").is_dir() == needs_sdk
    if not needs_sdk:
        return
    versions = dict(
        tuple(p.name[:-len(".dist-info")].lower().replace("_", "-").rsplit("-", 1))
        for p in bundle.glob("*.dist-info"))
    for dist in bundler.SDK_DISTS:
        assert versions.get(dist) == bundler.PINS[dist], (function, dist, versions.get(dist))
    models = {p.name for p in (bundle / "botocore" / "data").iterdir() if p.is_dir()}
    assert models == set(bundler.BOTOCORE_SERVICES)
    assert info["unzipped_bytes"] < (50 * 10**6 if function in ("api", "chat") else 250 * 10**6)
