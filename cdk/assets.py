"""Where the Lambda code comes from: the bundles scripts/build_lambda_bundles.py builds.

`cdk synth` through cdk.json runs the bundler first (cached, ~0.5 s when nothing changed), so a
real synth always packages real bundles. Tests set the context key `noticebot:lambda-assets` to
`placeholder` and get a tiny folder instead, so they stay fast and need no bundle build.
The bundle's content key (written by the bundler) is the asset hash: CDK does not re-hash
~190 MB on every synth, and two functions with identical bundles share one uploaded asset.
"""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_

from cdk.config import ASSETS_CONTEXT_KEY

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER = Path(__file__).resolve().parent / "placeholder_bundle"
PLACEHOLDER_VALUE = "placeholder"
EMBED_MODEL_DIR = "/var/task/models/bge_small_en"  # where the bundler puts the embedder


class BundleMissing(RuntimeError):
    pass


def assets_root(scope, default: str) -> str:
    return scope.node.try_get_context(ASSETS_CONTEXT_KEY) or default


def lambda_code(scope, function: str, default_root: str) -> lambda_.Code:
    root = assets_root(scope, default_root)
    if root == PLACEHOLDER_VALUE:
        return lambda_.Code.from_asset(str(PLACEHOLDER))
    bundle = (ROOT / root / function) if not Path(root).is_absolute() else Path(root) / function
    stamp = bundle / ".bundle.json"
    if not stamp.is_file():
        raise BundleMissing(
            f"no Lambda bundle for {function!r} at {bundle}: run "
            f"`.venv/bin/python scripts/build_lambda_bundles.py` (cdk synth via cdk.json does)")
    key = json.loads(stamp.read_text())["content_key"]
    return lambda_.Code.from_asset(str(bundle), asset_hash_type=cdk.AssetHashType.CUSTOM,
                                   asset_hash=key)
