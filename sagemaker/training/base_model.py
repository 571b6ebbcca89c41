"""Finding, converting and loading the base model (torch is imported inside the functions).

``model_name_or_path`` may be
- a folder in Hugging Face format (config.json + safetensors + tokenizer files),
- a ``.gguf`` file (the local SmolLM2): transformers dequantizes it to fp32 (~15 s), so it is
  converted once into an HF-format copy under a cache folder and reloaded from there (0.2 s).
  The copy's folder name depends on the file's content only, and
  ``noticebot.adapters.local.peft_backend`` computes the same name, so training and the local
  model server share one copy (tests/unit/training/test_base_model_cache.py holds them equal),
- a hub id (SageMaker, with ``HF_TOKEN`` for gated models), or empty: the ``model`` channel
  (``SM_CHANNEL_MODEL``) when the job has one, else :data:`hyperparameters.DEFAULT_BASE_MODEL`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

ENV_CACHE = "NOTICEBOT_MODEL_CACHE"
COMPLETE_MARKER = ".noticebot-complete"


def default_cache_root() -> Path:
    env = os.environ.get(ENV_CACHE)
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "noticebot" / "models"


def gguf_cache_name(gguf: Path) -> str:
    """``<stem>-<12 hex>``: size plus the first and last MiB (cheap, content-based)."""
    gguf = Path(gguf)
    size = gguf.stat().st_size
    digest = hashlib.sha256(str(size).encode())
    with gguf.open("rb") as fh:
        digest.update(fh.read(1 << 20))
        if size > (1 << 20):
            fh.seek(max(0, size - (1 << 20)))
            digest.update(fh.read(1 << 20))
    return f"{gguf.stem}-{digest.hexdigest()[:12]}"


def hf_copy_of_gguf(gguf: Path, cache_root: Path | None = None, log=print) -> Path:
    """The HF-format (fp32 safetensors) copy of a GGUF model, built on first use."""
    gguf = Path(gguf)
    target = (cache_root or default_cache_root()) / gguf_cache_name(gguf)
    if (target / COMPLETE_MARKER).is_file():
        return target
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # the GGUF loader's bars would fill the logs

    log(f"converting {gguf.name} to an HF-format copy in {target} (once)")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        loaded = AutoModelForCausalLM.from_pretrained(
            str(gguf.parent), gguf_file=gguf.name, **dtype_kwargs(torch.float32))
        # A fresh model of the same config: the GGUF-loaded one carries quantization
        # bookkeeping that save_pretrained would write back.
        fresh = type(loaded)(loaded.config)
        fresh.load_state_dict(loaded.state_dict())
        fresh.save_pretrained(str(tmp), safe_serialization=True)
        tokenizer.save_pretrained(str(tmp))
        (tmp / COMPLETE_MARKER).write_text(str(gguf))
        del loaded, fresh
        try:
            os.replace(tmp, target)  # atomic; fails if another process got there first
        except OSError:
            if not (target / COMPLETE_MARKER).is_file():
                shutil.rmtree(target, ignore_errors=True)
                os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


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


def dtype_kwargs(dtype) -> dict:
    """transformers 5 calls it ``dtype``; 4.x before 4.56 only knew ``torch_dtype``."""
    import transformers

    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    return {"dtype": dtype} if (major, minor) >= (4, 56) else {"torch_dtype": dtype}


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
