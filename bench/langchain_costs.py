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
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CANDIDATES = {  # distribution -> the module a handler would import
    "langchain-aws": "langchain_aws",
    "langchain-text-splitters": "langchain_text_splitters",
}


def _bundler():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import build_lambda_bundles
    finally:
        sys.path.pop(0)
    return build_lambda_bundles


def _dists(folder: Path) -> set[str]:
    return {p.name[: -len(".dist-info")].rsplit("-", 1)[0].lower().replace("_", "-")
            for p in folder.glob("*.dist-info")}


def added_mib(dist: str, api_bundle: Path) -> tuple[float, list[str]]:
    """(MiB a Lambda-platform install of ``dist`` adds to the API bundle, the new dists)."""
    bundler = _bundler()
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
        name = info.name[: -len(".dist-info")].rsplit("-", 1)[0].lower().replace("_", "-")
        if name not in new:
            continue
        for line in (info / "RECORD").read_text().splitlines():
            path = target / line.split(",", 1)[0]
            if path.is_file():
                size += path.stat().st_size
    return round(size / 2**20, 1), new


def import_seconds(module: str, samples: int = 5) -> float:
    def run(code: str) -> float:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, cwd=ROOT)
        return time.perf_counter() - t0

    took = statistics.median(run(f"import {module}") for _ in range(samples))
    base = statistics.median(run("pass") for _ in range(samples))
    return round(took - base, 3)


def measure(api_mib: float | None, log=print) -> dict:
    api_bundle = ROOT / "build" / "lambda" / "api"
    out = {}
    for dist, module in CANDIDATES.items():
        try:
            mib, new = added_mib(dist, api_bundle)
            seconds = import_seconds(module)
        except (subprocess.CalledProcessError, OSError) as exc:
            out[dist] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        total = round((api_mib or 0) + mib, 1)
        out[dist] = {"added_mib": mib, "new_distributions": new, "import_s": seconds,
                     "api_bundle_with_it_mib": total,
                     "fits_50mb": total * 1.048576 < 50}
        log(f"  {dist}: +{mib} MiB ({', '.join(new)}), import {seconds} s")
    return out
