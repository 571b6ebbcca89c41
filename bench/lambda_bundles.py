"""Lambda bundle sizes (built by scripts/build_lambda_bundles.py) and handler import times.

Import time is measured the way a cold start pays it: a fresh interpreter per sample, aws
mode, median of five. Targets from the AWS issue: the API function under 50 MB unzipped and
importing in under 0.5 s; no function over 250 MB.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HANDLERS = {
    "api": "noticebot.handlers.api.app",
    "ingest": "noticebot.handlers.ingest",
    "transcription": "noticebot.handlers.transcription",
    "deploy": "noticebot.handlers.deploy",
}


def import_seconds(module: str, samples: int = 5) -> float:
    env = {**os.environ, "NOTICEBOT_MODE": "aws", "AWS_DEFAULT_REGION": "us-east-1"}
    times = []
    for _ in range(samples):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"import {module}"], check=True, env=env,
                       cwd=ROOT, capture_output=True)
        times.append(time.perf_counter() - t0)
    baseline = []
    for _ in range(samples):  # the interpreter's own start, subtracted
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True, capture_output=True)
        baseline.append(time.perf_counter() - t0)
    return round(statistics.median(times) - statistics.median(baseline), 3)


def measure(build: bool = True, log=print) -> dict:
    if build:
        log("  building Lambda bundles (cached when up to date)")
        subprocess.run([sys.executable, "scripts/build_lambda_bundles.py", "--quiet"], cwd=ROOT,
                       check=True)
    out: dict = {"functions": {}}
    for function, module in HANDLERS.items():
        stamp = ROOT / "build" / "lambda" / function / ".bundle.json"
        size = json.loads(stamp.read_text())["unzipped_bytes"] if stamp.is_file() else None
        seconds = import_seconds(module)
        out["functions"][function] = {
            "unzipped_mib": round(size / 2**20, 1) if size else None,
            "import_s": seconds,
        }
        log(f"  {function}: {out['functions'][function]}")
    api = out["functions"]["api"]
    out["api_under_50mb"] = bool(api["unzipped_mib"] and api["unzipped_mib"] * 1.048576 < 50)
    out["api_import_under_0_5s"] = api["import_s"] < 0.5
    out["all_under_250mb"] = all((f["unzipped_mib"] or 0) * 1.048576 < 250
                                 for f in out["functions"].values())
    return out
