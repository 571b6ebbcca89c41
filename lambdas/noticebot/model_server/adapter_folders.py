"""What a deployable fine-tune is: a SageMaker-style name and a PEFT LoRA folder.

Checked when an adapter is registered, so a bad upload is refused at deploy time rather than
failing the first chat that routes to it.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from noticebot.domain.errors import InvalidRequest

ADAPTER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")  # an inference component name
ADAPTER_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")


def check_adapter_name(name: str) -> str:
    """Adapter names are SageMaker inference-component names: 1-63 characters."""
    if not isinstance(name, str) or not ADAPTER_NAME.fullmatch(name):
        raise InvalidRequest(
            f"adapter name {name!r} must be 1-63 letters, digits, '.', '_' or '-', starting alphanumeric")
    return name


def check_adapter(name: str, adapter_dir: str | os.PathLike) -> Path:
    """A registrable adapter: a safe name and a folder with a PEFT config and weights."""
    check_adapter_name(name)
    path = Path(adapter_dir)
    if not path.is_dir():
        raise InvalidRequest(f"adapter folder not found: {path}")
    try:
        config = json.loads((path / "adapter_config.json").read_text())
    except (OSError, ValueError) as exc:
        raise InvalidRequest(f"{path} has no readable adapter_config.json") from exc
    if str(config.get("peft_type", "")).upper() != "LORA":
        raise InvalidRequest(f"{path} is not a LoRA adapter (peft_type {config.get('peft_type')!r})")
    if not any((path / w).is_file() for w in ADAPTER_WEIGHTS):
        raise InvalidRequest(f"{path} has no adapter_model.safetensors")
    return path.resolve()
