"""sagemaker/training/requirements.txt installs into the training image the stages run on.

The SageMaker training container brings Python and a CUDA build of torch, then pip-installs
requirements.txt before train.py starts. A transformers that needs a newer torch than the
image's does not fail the install: it disables PyTorch at import, and every fine-tune fails.
So the pins are resolved here against the image's Python and torch (read from cdk.json's
training.image_tag), for Linux x86_64 wheels only, with pip's own resolver and the package
index's metadata (`pip install --dry-run --report`, nothing is installed or downloaded but
metadata). The resolution needs the package index; without it that test skips, and the
static checks still run.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[3]
REQUIREMENTS = ROOT / "sagemaker" / "training" / "requirements.txt"
LOCAL_TRAINING = ROOT / "requirements-train.txt"
# PyTorch training DLC tags: <torch>-gpu-py<python>-cu<cuda>-<os>-sagemaker.
TAG = re.compile(r"(?P<torch>\d+\.\d+\.\d+)-gpu-py(?P<major>\d)(?P<minor>\d+)-cu\d+-")
# Ubuntu 22.04 (glibc 2.35) images load these wheels.
PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_24_x86_64", "manylinux_2_28_x86_64",
             "manylinux_2_34_x86_64", "manylinux_2_35_x86_64")


def image_of(stage: str) -> tuple[str, str, str]:
    """(repository, torch version, python version) of a stage's training image."""
    training = json.loads((ROOT / "cdk.json").read_text())["context"]["noticebot"][
        "stages"][stage]["training"]
    match = TAG.match(training["image_tag"])
    assert match, f"cannot read torch and Python from training.image_tag {training['image_tag']}"
    return (training["image_repository"], match["torch"],
            f"{match['major']}.{match['minor']}")


def requirements() -> list[Requirement]:
    lines = [line.split("#")[0].strip() for line in REQUIREMENTS.read_text().splitlines()]
    return [Requirement(line) for line in lines if line]


def incompatible(packages: list[dict], torch: str, python: str) -> list[str]:
    """What in a resolution report's packages rules out this torch or Python."""
    problems = []
    for package in packages:
        meta = package["metadata"]
        needs_python = meta.get("requires_python")
        if needs_python and Version(python + ".0") not in SpecifierSet(needs_python):
            problems.append(f"{meta['name']} {meta['version']} needs Python {needs_python}")
        for raw in meta.get("requires_dist") or []:
            req = Requirement(raw)
            if req.name != "torch" or not req.specifier:
                continue
            marker = req.marker
            if marker is not None and not marker.evaluate({"extra": "torch"}) \
                    and not marker.evaluate({"extra": ""}):
                continue
            if Version(torch) not in req.specifier:
                problems.append(f"{meta['name']} {meta['version']} needs torch{req.specifier}")
    return problems


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_stages_train_on_an_image_whose_torch_and_python_we_know(stage):
    repository, torch, python = image_of(stage)
    assert repository == "pytorch-training"
    assert Version(torch) >= Version("2.6") and Version(python) >= Version("3.11")


def test_every_requirement_is_pinned_and_none_replaces_the_images_torch():
    reqs = requirements()
    assert reqs
    for req in reqs:
        assert str(req.specifier).startswith("=="), f"{req} is not pinned"
        assert req.name not in ("torch", "torchvision", "torchaudio"), req


def test_sagemaker_trains_with_the_versions_the_local_suite_trains_with():
    local = {Requirement(line.split("#")[0]).name: str(Requirement(line.split("#")[0]).specifier)
             for line in LOCAL_TRAINING.read_text().splitlines() if line.split("#")[0].strip()}
    for req in requirements():
        if req.name in local:
            assert str(req.specifier) == local[req.name], req.name


def test_the_compatibility_check_catches_the_old_image():
    """transformers 5 on the Hugging Face DLC the stages used before (torch 2.1, Python 3.10):
    the check reads the same metadata pip writes in its report."""
    report = [{"metadata": {"name": "transformers", "version": "5.24.0",
                            "requires_python": ">=3.11.0",
                            "requires_dist": ['torch>=2.6; extra == "torch"', "numpy>=1.17"]}},
              {"metadata": {"name": "peft", "version": "0.21.2", "requires_python": ">=3.10",
                            "requires_dist": ["torch>=1.13.0"]}}]
    assert incompatible(report, "2.1.0", "3.10") == [
        "transformers 5.24.0 needs Python >=3.11.0", "transformers 5.24.0 needs torch>=2.6"]
    assert incompatible(report, "2.6.0", "3.12") == []


def resolve(torch: str, python: str, tmp_path: Path) -> dict:
    constraints = tmp_path / "constraints.txt"
    constraints.write_text(f"torch=={torch}\n")
    # transformers' torch extra states the torch it needs; torch itself is pinned to the
    # image's, as the container has it installed.
    wanted = [f"{r.name}[torch]{r.specifier}" if r.name == "transformers" else str(r)
              for r in requirements()] + ["torch"]
    report = tmp_path / "report.json"
    cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
           "--disable-pip-version-check", "--target", str(tmp_path / "target"),
           "--report", str(report), "--only-binary=:all:", "--implementation", "cp",
           "--python-version", python, *[a for p in PLATFORMS for a in ("--platform", p)],
           "-c", str(constraints), *wanted]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        text = done.stdout + done.stderr
        if re.search(r"ResolutionImpossible|conflict|No matching distribution", text) and \
                not re.search(r"(?i)connection|network|Max retries|Temporary failure", text):
            pytest.fail(f"the training requirements do not install on torch {torch} / Python "
                        f"{python}:\n{text[-3000:]}")
        pytest.skip(f"the package index is not reachable: {text.strip().splitlines()[-1:]}")
    return json.loads(report.read_text())


@pytest.mark.parametrize("stage", ["dev"])  # both stages use one image (checked above)
def test_the_requirements_resolve_against_the_images_python_and_torch(stage, tmp_path):
    _, torch, python = image_of(stage)
    assert image_of("prod") == image_of(stage)
    report = resolve(torch, python, tmp_path)
    installed = {p["metadata"]["name"].lower(): p for p in report["install"]}
    assert installed["torch"]["metadata"]["version"] == torch  # the image's, not a newer one
    for req in requirements():
        if req.marker is None or req.marker.evaluate():
            assert installed[req.name.lower()]["metadata"]["version"] in req.specifier, req
    assert incompatible(report["install"], torch, python) == []
