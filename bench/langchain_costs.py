"""What LangChain would cost the API function: added bundle size and import time.

The AWS issue allows langchain-aws on the API function's cold path only if its measured
import time and bundle size fit the budget (API bundle < 50 MB unzipped, handler import
< 0.5 s). This installs each candidate for Lambda's platform (the bundler's pip flags, the
runtime's boto3 left out), counts only what the API bundle does not already carry, and times
``import`` in a fresh interpreter of this virtualenv (median of five, interpreter start
subtracted). The install is cached under build/lambda-cache/optional-<name>.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from bench import lambda_bundles

ROOT = Path(__file__).resolve().parents[1]
CANDIDATES = {  # distribution -> the module a handler would import
    "langchain-aws": "langchain_aws",
    "langchain-text-splitters": "langchain_text_splitters",
}


def _dist_name(info: Path) -> str:
    """``langchain_aws-1.9.1.dist-info`` -> ``langchain-aws``."""
    return info.name[: -len(".dist-info")].rsplit("-", 1)[0].lower().replace("_", "-")


def _dists(folder: Path) -> set[str]:
    return {_dist_name(p) for p in folder.glob("*.dist-info")}


def added_mib(dist: str, api_bundle: Path) -> tuple[float, list[str]]:
    """(MiB a Lambda-platform install of ``dist`` adds to the API bundle, the new dists)."""
    bundler = lambda_bundles.bundler()
    target = bundler.CACHE_DIR / f"optional-{dist}"
    if not (target / ".complete").is_file():
        shutil.rmtree(target, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "--disable-pip-version-check",
                        "--quiet", "--no-compile", "--target", str(target),
                        *bundler.pip_flags(), dist], check=True, capture_output=True)
        for name in bundler.RUNTIME_PROVIDED:
            bundler.remove_distribution(target, name)
        bundler.prune(target)
        (target / ".complete").write_text(dist)
    new = sorted(_dists(target) - _dists(api_bundle))
    size = 0
    for info in target.glob("*.dist-info"):
        if _dist_name(info) not in new:
            continue
        for line in (info / "RECORD").read_text().splitlines():
            path = target / line.split(",", 1)[0]
            if path.is_file():
                size += path.stat().st_size
    return round(size / 2**20, 1), new


def measure(api_mib: float | None, log=print) -> dict:
    api_bundle = ROOT / "build" / "lambda" / "api"
    out = {}
    for dist, module in CANDIDATES.items():
        try:
            mib, new = added_mib(dist, api_bundle)
            seconds = lambda_bundles.import_seconds(module)  # in this virtualenv
        except (subprocess.CalledProcessError, OSError) as exc:
            out[dist] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        total = round((api_mib or 0) + mib, 1)
        out[dist] = {"added_mib": mib, "new_distributions": new, "import_s": seconds,
                     "api_bundle_with_it_mib": total,
                     "fits_50mb": total * 1.048576 < 50}
        log(f"  {dist}: +{mib} MiB ({', '.join(new)}), import {seconds} s")
    return out
