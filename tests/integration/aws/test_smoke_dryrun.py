"""`make smoke-aws-dryrun`: scripts/smoke_aws.py --target moto, as a subprocess, end to end."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
STEPS = ("upload", "ingest", "search", "chat", "fine-tune", "adapter", "chat with adapter",
         "check: adapter request", "check: model package", "check: background")


def test_the_dry_run_passes_every_step_and_says_what_stood_in():
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") or k == "AWS_CA_BUNDLE"}  # nothing real to reach
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "smoke_aws.py"),
                           "--target", "moto"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = {line.split("  ")[0]: line for line in done.stdout.splitlines()}
    for step in STEPS:
        assert step in rows, f"no row for {step}:\n{done.stdout}"
        assert " passed " in rows[step], rows[step]
    assert f"{len(STEPS)} steps" in done.stdout and "all passed" in done.stdout
    assert "substituted" in done.stdout and "CreateInferenceComponent" in done.stdout
