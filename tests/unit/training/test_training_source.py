"""The training source directory as SageMaker unpacks it runs train.py on its own.

The packaging step (cdk.assets, the sourcedir.tar.gz asset) reads sagemaker/training/*.py;
model_contract.py there is a link to the one contract file, so the archive must carry its
content, and train.py must import and run from the unpacked folder with nothing but the
standard library (its requirements are imported only once training starts)."""

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from noticebot import model_contract

assets = pytest.importorskip("cdk.assets", reason="the CDK app's packages are not installed")

EXIT_BAD_HYPERPARAMETERS = 2


@pytest.fixture(scope="module")
def source_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sourcedir")
    with tarfile.open(fileobj=io.BytesIO(assets.training_source_bytes()), mode="r:gz") as archive:
        archive.extractall(folder, filter="data")
    return folder


def test_the_archive_carries_the_contract_itself_not_a_link(source_dir):
    shipped = source_dir / "model_contract.py"
    assert shipped.is_file() and not shipped.is_symlink()
    assert shipped.read_bytes() == Path(model_contract.__file__).read_bytes()


def run_isolated(source_dir, code, env=None):
    """Python without site-packages (-S) or the caller's environment and paths (-I)."""
    return subprocess.run([sys.executable, "-I", "-S", "-c", code], cwd=source_dir, env=env,
                          capture_output=True, text=True, timeout=60)


def test_train_py_imports_from_the_unpacked_folder_with_the_standard_library_only(source_dir):
    out = run_isolated(source_dir, (
        f"import sys; sys.path.insert(0, {str(source_dir)!r}); import train\n"
        "print(train.chat_format.model_contract.__file__)"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(source_dir / "model_contract.py")


def test_train_py_runs_under_the_sagemaker_contract_from_the_folder(source_dir, tmp_path):
    """Bad hyperparameters are refused before any requirement is imported: exit 2 and
    SageMaker's failure file, from the unpacked archive alone."""
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "hyperparameters.json").write_text(json.dumps({"epochs": "many"}))
    env = {"SM_INPUT_CONFIG_DIR": str(tmp_path / "config"), "SM_MODEL_DIR": str(tmp_path / "model"),
           "SM_OUTPUT_DATA_DIR": str(tmp_path / "output" / "data"), "SM_OUTPUT_DIR": str(tmp_path / "output"),
           "SM_CHANNEL_TRAIN": str(tmp_path / "train")}
    out = subprocess.run([sys.executable, "-I", "-S", str(source_dir / "train.py")], cwd=source_dir,
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == EXIT_BAD_HYPERPARAMETERS, out.stderr
    assert "epochs" in (tmp_path / "output" / "failure").read_text()
