"""Finding, converting and loading the base model (torch is imported inside the functions).

``model_name_or_path`` may be
- a folder in Hugging Face format (config.json + safetensors + tokenizer files),
- a ``.gguf`` file (the local SmolLM2): transformers dequantizes it to fp32 (~15 s), so it is
  converted once into an HF-format copy under a cache folder and reloaded from there (0.2 s).
  The copy (its folder name and how it is built) is the model contract's
  (``model_contract.hf_copy_of_gguf``), so training and the model server share one copy,
- a hub id (SageMaker, with ``HF_TOKEN`` for gated models), or empty: the ``model`` channel
  (``SM_CHANNEL_MODEL``) when the job has one, else :data:`hyperparameters.DEFAULT_BASE_MODEL`.
"""

from __future__ import annotations

import os
from pathlib import Path

from model_contract import dtype_kwargs, hf_copy_of_gguf


def resolve(name_or_path: str, default: str, cache_root: Path | None = None, log=print) -> tuple[str, str]:
    """``(what from_pretrained loads, where it came from)``."""
    origin = name_or_path or os.environ.get("SM_CHANNEL_MODEL") or default
    path = Path(origin)
    if path.suffix.lower() == ".gguf":
        if not path.is_file():
            raise FileNotFoundError(f"GGUF model file not found: {path}")
        return str(hf_copy_of_gguf(path, cache_root, log)), origin
    if path.is_dir():
        ggufs = sorted(path.glob("*.gguf"))
        if not (path / "config.json").is_file() and len(ggufs) == 1:
            return str(hf_copy_of_gguf(ggufs[0], cache_root, log)), origin
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"{path} holds no config.json (not an HF-format model folder)")
        return str(path), origin
    if path.is_absolute() or origin.startswith("."):
        raise FileNotFoundError(f"model not found: {origin}")
    return origin, origin  # a hub id


def bitsandbytes_available() -> bool:
    try:
        import bitsandbytes  # noqa: F401
    except Exception:  # ImportError, or a CUDA-setup error raised at import
        return False
    return True


def load_tokenizer(path: str):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(path: str, *, device: str, dtype, load_in_4bit: bool):
    from transformers import AutoModelForCausalLM

    kwargs = dtype_kwargs(dtype)
    if load_in_4bit:
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=dtype,
        )
        kwargs["device_map"] = {"": 0}
    model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
    if not load_in_4bit:
        model.to(device)
    return model
