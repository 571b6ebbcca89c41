"""Where the Lambda code and the training source come from.

Lambda code: the bundles scripts/build_lambda_bundles.py builds. `cdk synth` through cdk.json
runs the bundler first (cached, ~0.5 s when nothing changed), so a real synth always packages
real bundles. Tests set the context key `noticebot:lambda-assets` to `placeholder` and get a tiny
folder instead, so they stay fast and need no bundle build. The bundle's content key (written by
the bundler) is the asset hash: CDK does not re-hash ~190 MB on every synth, and two functions
with identical bundles share one uploaded asset.

Training source: the SageMaker training toolkit fetches `sagemaker_submit_directory` as a
gzipped tarball (it opens it with tarfile "r:gz"; a zip, which is what CDK makes of a directory
asset, does not work). `training_source_archive()` writes sagemaker/training/*.py and
requirements.txt into build/training-source/sourcedir.tar.gz with the standard library:
offline, no Docker, a few milliseconds, and byte-for-byte reproducible (sorted entries, zero
mtimes and owners), so the asset hash changes only when a file does. Tests get the real archive.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_

from cdk.config import ASSETS_CONTEXT_KEY

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER = Path(__file__).resolve().parent / "placeholder_bundle"
PLACEHOLDER_VALUE = "placeholder"
TRAINING_SOURCE_DIR = ROOT / "sagemaker" / "training"
TRAINING_SOURCE_PATTERNS = ("*.py", "requirements.txt")
TRAINING_SOURCE_ARCHIVE = ROOT / "build" / "training-source" / "sourcedir.tar.gz"
TRAINING_ENTRY_POINT = "train.py"  # sagemaker_program (noticebot.adapters.aws.sagemaker_training)


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


def training_source_files(source_dir: Path = TRAINING_SOURCE_DIR) -> list[Path]:
    files = {p for pattern in TRAINING_SOURCE_PATTERNS for p in source_dir.glob(pattern)
             if p.is_file()}
    return sorted(files, key=lambda p: p.name)


def training_source_bytes(source_dir: Path = TRAINING_SOURCE_DIR) -> bytes:
    """sourcedir.tar.gz: the files at the archive root, reproducible byte for byte."""
    files = training_source_files(source_dir)
    if TRAINING_ENTRY_POINT not in {p.name for p in files}:
        raise FileNotFoundError(f"no {TRAINING_ENTRY_POINT} in {source_dir}")
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for path in files:
            data = path.read_bytes()
            info = tarfile.TarInfo(path.name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    # mtime=0 and no file name in the gzip header: the same files give the same bytes.
    return gzip.compress(raw.getvalue(), compresslevel=9, mtime=0)


def training_source_archive(target: Path = TRAINING_SOURCE_ARCHIVE,
                            source_dir: Path = TRAINING_SOURCE_DIR) -> Path:
    """Writes (only when its content changed) and returns the training source archive."""
    data = training_source_bytes(source_dir)
    if not (target.is_file() and target.read_bytes() == data):
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)  # atomic: a concurrent synth never reads half a file
    return target
