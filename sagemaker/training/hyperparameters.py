"""Fine-tuning hyperparameters: the schema, its validation and the metric regexes.

Why a module of its own, standard library only: the API validates a fine-tune request with
exactly the rules ``train.py`` applies (a bad value is a 422 before any job starts), the
launchers need the SageMaker metric definitions, and neither may import torch. It imports
nothing from its siblings, so it can be loaded by path or copied into a Lambda bundle.

    parse_hyperparameters({"epochs": "3", "learning_rate": 2e-4})  -> Hyperparameters
    HyperparameterError.errors                                      -> [{"field", "message"}]
    Hyperparameters.to_sagemaker()                                  -> {"epochs": "3", ...}

SageMaker hands every value over as a string (``/opt/ml/input/config/hyperparameters.json``);
the Python SDK's framework estimators JSON-encode them as well (``"\\"llama3\\""``), and its
training toolkit adds ``sagemaker_*`` keys. All of those are accepted here: strings are
parsed, JSON-quoted strings unquoted, ``sagemaker_*`` keys ignored. Unknown keys are errors,
so a typo ("learning_rat") fails loudly instead of training with the default.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields

EXIT_BAD_HYPERPARAMETERS = 2  # train.py's exit status for a value this module rejects
EXIT_BAD_DATA = 3  # ... and for a dataset with nothing to train or evaluate on

DEFAULT_BASE_MODEL = "meta-llama/Meta-Llama-3-8B-Instruct"
# The largest LoRA rank the serving endpoint loads (noticebot.domain.tuning.MAX_LORA_RANK,
# which sets the LMI container's OPTION_MAX_LORA_RANK): an adapter trained with a larger rank
# could never be deployed.
MAX_LORA_RANK = 64
CHAT_TEMPLATES = ("llama3", "chatml")

# One float in a log line: "train_loss=1.234567;". ``\b`` keeps "eval_loss" from matching
# inside "base_eval_loss" (an underscore is a word character, so there is no boundary there).
_FLOAT = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
METRIC_NAMES = ("train_loss", "eval_loss", "base_eval_loss")
METRIC_DEFINITIONS = [{"Name": name, "Regex": rf"\b{name}={_FLOAT};"} for name in METRIC_NAMES]


def metric_fragment(name: str, value: float) -> str:
    """``name=value;`` as the regexes above read it (fixed point, never an exponent)."""
    return f"{name}={float(value):.6f};"


class HyperparameterError(ValueError):
    """Every problem found, not only the first: ``errors`` is ``[{"field", "message"}]``."""

    def __init__(self, errors: list[dict[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))


@dataclass(frozen=True)
class Spec:
    kind: type  # int, float, str or bool
    default: object
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] | None = None
    optional: bool = False  # None (or "", "none", 0 for max_steps) means "not set"
    help: str = ""


SCHEMA: dict[str, Spec] = {
    "model_name_or_path": Spec(
        str, "", help="HF-format folder, a .gguf file, or a hub id; empty: the 'model' channel "
        f"(SM_CHANNEL_MODEL) if there is one, else {DEFAULT_BASE_MODEL}"),
    "epochs": Spec(int, 3, 1, 20, help="passes over the training split"),
    "learning_rate": Spec(float, 2e-4, 1e-6, 1e-2, help="peak learning rate (AdamW)"),
    "lora_r": Spec(int, 16, 1, MAX_LORA_RANK,
                   help=f"LoRA rank (at most {MAX_LORA_RANK}: what the endpoint loads)"),
    "lora_alpha": Spec(int, 32, 1, 1024, help="LoRA scaling numerator (scale = alpha / r)"),
    "lora_dropout": Spec(float, 0.05, 0.0, 0.5, help="dropout on the LoRA input"),
    "lora_target_modules": Spec(
        str, "all-linear", help="'all-linear' or comma-separated module names (q_proj,v_proj)"),
    "max_seq_length": Spec(int, 1024, 64, 8192, help="tokens per example; longer ones are cut"),
    "per_device_batch_size": Spec(int, 2, 1, 64, help="examples per forward pass"),
    "gradient_accumulation_steps": Spec(int, 4, 1, 128, help="forward passes per optimizer step"),
    "max_steps": Spec(int, None, 1, 100_000, optional=True,
                      help="stop after this many optimizer steps (default: the epochs decide)"),
    "warmup_ratio": Spec(float, 0.03, 0.0, 0.5, help="share of steps with a linear warm-up"),
    "lr_scheduler": Spec(str, "cosine", choices=("cosine", "linear", "constant")),
    "weight_decay": Spec(float, 0.0, 0.0, 1.0),
    "max_grad_norm": Spec(float, 1.0, 0.0, 100.0, help="gradient clipping; 0 turns it off"),
    "logging_steps": Spec(int, 0, 0, 10_000, help="optimizer steps between train_loss lines; 0: auto"),
    "save_steps": Spec(int, 0, 0, 100_000,
                       help="optimizer steps between checkpoints (spot); 0: every 50 and at epoch end"),
    "chat_template": Spec(str, "llama3", choices=CHAT_TEMPLATES,
                          help="llama3 for LLaMA 3 Instruct, chatml for SmolLM2"),
    "load_in_4bit": Spec(str, "auto", choices=("auto", "true", "false"),
                         help="QLoRA; auto: when CUDA and bitsandbytes are present"),
    "gradient_checkpointing": Spec(str, "auto", choices=("auto", "true", "false"),
                                   help="auto: on a GPU"),
    "seed": Spec(int, 42, 0, 2**31 - 1),
}

ALIASES = {
    "num_train_epochs": "epochs",
    "batch_size": "per_device_batch_size",
    "per_device_train_batch_size": "per_device_batch_size",
}


@dataclass(frozen=True)
class Hyperparameters:
    model_name_or_path: str = ""
    epochs: int = 3
    learning_rate: float = 2e-4
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_target_modules: str = "all-linear"
    max_seq_length: int = 1024
    per_device_batch_size: int = 2
    gradient_accumulation_steps: int = 4
    max_steps: int | None = None
    warmup_ratio: float = 0.03
    lr_scheduler: str = "cosine"
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    logging_steps: int = 0
    save_steps: int = 0
    chat_template: str = "llama3"
    load_in_4bit: str = "auto"
    gradient_checkpointing: str = "auto"
    seed: int = 42

    def as_dict(self) -> dict:
        return asdict(self)

    def to_sagemaker(self) -> dict[str, str]:
        """``HyperParameters`` for ``create_training_job``: every set value, as a string."""
        out = {}
        for key, value in asdict(self).items():
            if value is None or (key == "model_name_or_path" and not value):
                continue
            out[key] = repr(value) if isinstance(value, float) else str(value)
        return out

    @property
    def target_modules(self) -> str | list[str]:
        if self.lora_target_modules == "all-linear":
            return "all-linear"
        return [m.strip() for m in self.lora_target_modules.split(",") if m.strip()]


assert [f.name for f in fields(Hyperparameters)] == list(SCHEMA), "schema and dataclass drifted"


def _unquote(value):
    """SageMaker SDK v2 JSON-encodes string values: '"llama3"' -> 'llama3'."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            decoded = json.loads(value)
        except ValueError:
            return value
        if isinstance(decoded, str):
            return decoded
    return value


def _describe(spec: Spec) -> str:
    kind = {int: "an integer", float: "a number", str: "a string"}[spec.kind]
    if spec.low is not None and spec.high is not None:
        return f"must be {kind} between {spec.low:g} and {spec.high:g}"
    return f"must be {kind}"


def _coerce(name: str, spec: Spec, value):
    """The parsed value, or raises ValueError with a message for people."""
    value = _unquote(value)
    if isinstance(value, str):
        value = value.strip()
    if spec.optional and (value is None or (isinstance(value, str) and value.lower() in ("", "none", "null"))):
        return None
    if value is None:
        raise ValueError(f"{_describe(spec)} (got null)")
    if spec.kind is str:
        if not isinstance(value, str):
            raise ValueError(f"must be a string (got {value!r})")
        if spec.choices is not None:
            lowered = value.lower()
            if lowered not in spec.choices:
                raise ValueError(f"must be one of {', '.join(spec.choices)} (got {value!r})")
            return lowered
        if len(value) > 1024 or any(c in value for c in "\n\r\0"):
            raise ValueError("must be one line of at most 1024 characters")
        if name == "lora_target_modules" and value != "all-linear":
            parts = [p.strip() for p in value.split(",")]
            if not parts or not all(p and all(c.isalnum() or c in "_." for c in p) for p in parts):
                raise ValueError(
                    f"must be 'all-linear' or comma-separated module names (got {value!r})")
        return value
    if isinstance(value, bool):
        raise ValueError(f"{_describe(spec)} (got {value!r})")
    try:
        number = float(value) if isinstance(value, str) else value
        if not isinstance(number, (int, float)) or math.isnan(number) or math.isinf(number):
            raise TypeError
    except (TypeError, ValueError):
        raise ValueError(f"{_describe(spec)} (got {value!r})") from None
    if spec.kind is int:
        if float(number) != int(number):
            raise ValueError(f"{_describe(spec)} (got {value!r})")
        number = int(number)
        if spec.optional and number == 0:
            return None
    else:
        number = float(number)
    if (spec.low is not None and number < spec.low) or (spec.high is not None and number > spec.high):
        raise ValueError(f"{_describe(spec)} (got {value!r})")
    return number


def parse_hyperparameters(raw: Mapping[str, object] | None) -> Hyperparameters:
    """Validated, typed hyperparameters with defaults filled in.

    Accepts SageMaker's all-strings form and plain JSON values alike. Raises
    :class:`HyperparameterError` (a ``ValueError``) listing every bad or unknown field.
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise HyperparameterError([{"field": "hyperparameters", "message": "must be a JSON object"}])
    errors: list[dict[str, str]] = []
    values: dict[str, object] = {}
    seen_from: dict[str, str] = {}
    for key in sorted(raw, key=str):
        if not isinstance(key, str):
            errors.append({"field": str(key), "message": "names must be strings"})
            continue
        if key.startswith("sagemaker_") or key.startswith("_"):
            continue  # the SageMaker toolkit's own entries (sagemaker_program, ...)
        name = ALIASES.get(key, key)
        spec = SCHEMA.get(name)
        if spec is None:
            errors.append({"field": key, "message": f"unknown hyperparameter; known: {', '.join(SCHEMA)}"})
            continue
        if name in seen_from:
            errors.append({"field": key, "message": f"given twice (also as {seen_from[name]!r})"})
            continue
        seen_from[name] = key
        try:
            values[name] = _coerce(name, spec, raw[key])
        except ValueError as exc:
            errors.append({"field": key, "message": str(exc)})
    if errors:
        raise HyperparameterError(errors)
    return Hyperparameters(**values)


def json_schema() -> dict:
    """The request body's JSON Schema (for the API's OpenAPI document)."""
    props = {}
    for name, spec in SCHEMA.items():
        kind = {int: "integer", float: "number", str: "string"}[spec.kind]
        prop: dict = {"type": [kind, "null"] if spec.optional else kind}
        if spec.default is not None:
            prop["default"] = spec.default
        if spec.low is not None:
            prop["minimum"] = spec.low
        if spec.high is not None:
            prop["maximum"] = spec.high
        if spec.choices:
            prop["enum"] = list(spec.choices)
        if spec.help:
            prop["description"] = spec.help
        props[name] = prop
    return {"type": "object", "properties": props, "additionalProperties": False}
