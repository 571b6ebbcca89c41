"""Lambda bundle sizes (built by scripts/build_lambda_bundles.py) and handler import times.

Import time is measured the way a cold start pays it: a fresh interpreter per sample, aws
mode, median of five, importing from the bundle itself with CPython 3.12 and site-packages
off (the shipped bytecode, the shipped dependencies; boto3 from a copy standing in for the
runtime's). Without a CPython 3.12 it falls back to this virtualenv, and says so.
Targets from the AWS issue: the API function under 50 MB unzipped and
importing in under 0.5 s; no function over 250 MB.
"""

from __future__ import annotations

import functools
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from noticebot.environment import EnvVar
from noticebot.functions import EMBEDDER_DIR, FUNCTIONS

ROOT = Path(__file__).resolve().parents[1]
# Each function's handler module (the first module its smoke test imports).
HANDLERS = {spec.name: spec.smoke_imports[0] for spec in FUNCTIONS.values()}
# The embed function's cold start is dominated by loading the model, not by imports.
FIRST_VECTOR = ("from noticebot.handlers.embed import handler; "
                "handler({'kind': 'query', 'texts': ['When is the summer party?']}, None)")


BUNDLES = ROOT / "build" / "lambda"
RUNTIME_SIMULATION = ROOT / "build" / "lambda-cache" / "runtime-simulation"


def bundler():
    """scripts/build_lambda_bundles.py as a module (its paths, pip flags, Python finder)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import build_lambda_bundles
    finally:
        sys.path.pop(0)
    return build_lambda_bundles


@functools.cache
def python312() -> str | None:
    return bundler().find_python312()


def import_seconds(module: str, function: str | None = None, samples: int = 5) -> float:
    return fresh_interpreter_seconds(f"import {module}", function, samples)


def _command(code: str, function: str | None) -> list[str]:
    python = python312()
    bundle = BUNDLES / function if function else None
    if python and bundle and (bundle / ".bundle.json").is_file() and RUNTIME_SIMULATION.is_dir():
        prefix = f"import sys; sys.path[:0] = [{str(bundle)!r}, {str(RUNTIME_SIMULATION)!r}]; "
        return [python, "-I", "-S", "-B", "-c", prefix + code]
    return [sys.executable, "-c", code]


def fresh_interpreter_seconds(code: str, function: str | None = None, samples: int = 5) -> float:
    env = {**os.environ, EnvVar.MODE: "aws", EnvVar.AWS_DEFAULT_REGION: "us-east-1"}
    if function:
        env[EnvVar.EMBED_MODEL_DIR] = str(BUNDLES / function / EMBEDDER_DIR)
    command = _command(code, function)
    times = []
    for _ in range(samples):
        t0 = time.perf_counter()
        subprocess.run(command, check=True, env=env, cwd=ROOT, capture_output=True)
        times.append(time.perf_counter() - t0)
    baseline = []
    for _ in range(samples):  # the interpreter's own start, subtracted
        t0 = time.perf_counter()
        subprocess.run([command[0], *command[1:-1], "pass"], check=True, capture_output=True)
        baseline.append(time.perf_counter() - t0)
    return round(statistics.median(times) - statistics.median(baseline), 3)


def measure(build: bool = True, log=print) -> dict:
    if build:
        log("  building Lambda bundles (cached when up to date)")
        # --smoke-test also installs the boto3 copy the import measurement runs against.
        subprocess.run([sys.executable, "scripts/build_lambda_bundles.py", "--quiet",
                        "--smoke-test"], cwd=ROOT, check=True)
    out: dict = {"functions": {},
                 "imported_from": "each bundle, CPython 3.12" if _command("", "api")[0] !=
                 sys.executable else "this virtualenv (no CPython 3.12 found)"}
    for function, module in HANDLERS.items():
        stamp = ROOT / "build" / "lambda" / function / ".bundle.json"
        size = json.loads(stamp.read_text())["unzipped_bytes"] if stamp.is_file() else None
        seconds = import_seconds(module, function)
        out["functions"][function] = {
            "unzipped_mib": round(size / 2**20, 1) if size else None,
            "import_s": seconds,
        }
        log(f"  {function}: {out['functions'][function]}")
    out["embed_first_vector_s"] = fresh_interpreter_seconds(FIRST_VECTOR, "embed", samples=3)
    log(f"  embed: first vector in a fresh interpreter {out['embed_first_vector_s']} s")
    api = out["functions"]["api"]
    from bench import langchain_costs

    out["langchain"] = langchain_costs.measure(api["unzipped_mib"], log=log)
    out["api_under_50mb"] = bool(api["unzipped_mib"] and api["unzipped_mib"] * 1.048576 < 50)
    out["api_import_under_0_5s"] = api["import_s"] < 0.5
    out["all_under_250mb"] = all((f["unzipped_mib"] or 0) * 1.048576 < 250
                                 for f in out["functions"].values())
    return out
