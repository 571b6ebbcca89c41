#!/usr/bin/env python3
"""LoRA fine-tuning of a causal LM under the SageMaker training contract.

Runs unchanged in a SageMaker Hugging Face PyTorch training container (GPU: bf16, QLoRA
4-bit when bitsandbytes is there) and locally as a subprocess on CPU (fp32), where the
local launcher sets the same environment:

  hyperparameters  SM_HPS (JSON), else $SM_INPUT_CONFIG_DIR/hyperparameters.json
                   (default /opt/ml/input/config); ``--name value`` arguments override.
                   Validated by hyperparameters.parse_hyperparameters (exit 2 when bad).
  data             SM_CHANNEL_TRAIN, SM_CHANNEL_VALIDATION (default /opt/ml/input/data/<name>):
                   folders of *.jsonl, {"messages": [...]} or {"text": ...} a line. Without a
                   validation channel a seeded 10 % of train is held out. Nothing to train on:
                   exit 3.
  model output     SM_MODEL_DIR (default /opt/ml/model): adapter_config.json,
                   adapter_model.safetensors, metrics.json
  logs             SM_OUTPUT_DATA_DIR (default /opt/ml/output/data): train_log.jsonl,
                   progress.json (rewritten at every logging step), metrics.json,
                   failure.json on failure; "failure" in SM_OUTPUT_DIR as SageMaker reads it.
  checkpoints      SM_CHECKPOINT_DIR, else /opt/ml/checkpoints when it exists (managed spot
                   training syncs it with S3): the run resumes from the last checkpoint.

The base model's loss on the validation split is measured before training, on the same
tokens as the fine-tuned model's, so the deploy step can compare the two. Loss is counted on
assistant tokens only (chat) or on every token (text), averaged per token over each
optimizer step. stdout carries ``base_eval_loss=<f>;``, ``train_loss=<f>;`` (every logging
step) and ``eval_loss=<f>;`` (every epoch) for hyperparameters.METRIC_DEFINITIONS.
"""

from __future__ import annotations

import json
import math
import os
import random
import resource
import shutil
import sys
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import chat_format  # noqa: E402
import hyperparameters as hpmod  # noqa: E402
import training_data  # noqa: E402


# Test hook: end the run after this optimizer step, as a spot interruption would (the
# checkpoint for that step is written first when it is a save step).
ENV_STOP_AFTER = "NOTICEBOT_TRAIN_STOP_AFTER_STEP"
EXIT_INTERRUPTED = 75


class Failure(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Env:
    model_dir: Path
    output_data_dir: Path
    output_dir: Path | None
    train_dir: Path | None
    validation_dir: Path | None
    checkpoint_dir: Path | None
    raw_hyperparameters: dict


def _env_path(name: str, default: str | None) -> Path | None:
    value = os.environ.get(name) or default
    return Path(value) if value else None


def parse_argv(argv: list[str]) -> dict:
    """``--name value`` / ``--name=value`` pairs (the SageMaker toolkit passes these too)."""
    out, i = {}, 0
    while i < len(argv):
        arg = argv[i]
        if not arg.startswith("--"):
            raise Failure(hpmod.EXIT_BAD_HYPERPARAMETERS, f"unexpected argument {arg!r}")
        if "=" in arg:
            key, value = arg[2:].split("=", 1)
        else:
            if i + 1 >= len(argv):
                raise Failure(hpmod.EXIT_BAD_HYPERPARAMETERS, f"{arg} needs a value")
            key, value = arg[2:], argv[i + 1]
            i += 1
        out[key.replace("-", "_")] = value
        i += 1
    return out


def read_env(argv: list[str]) -> Env:
    raw: dict = {}
    if os.environ.get("SM_HPS"):
        try:
            raw = json.loads(os.environ["SM_HPS"])
        except ValueError as exc:
            raise Failure(hpmod.EXIT_BAD_HYPERPARAMETERS, f"SM_HPS is not JSON: {exc}") from None
    else:
        config = Path(os.environ.get("SM_INPUT_CONFIG_DIR") or "/opt/ml/input/config")
        path = config / "hyperparameters.json"
        if path.is_file():
            try:
                raw = json.loads(path.read_text(encoding="utf-8"))
            except ValueError as exc:
                raise Failure(hpmod.EXIT_BAD_HYPERPARAMETERS, f"{path} is not JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise Failure(hpmod.EXIT_BAD_HYPERPARAMETERS, "hyperparameters must be a JSON object")
    raw.update(parse_argv(argv))
    checkpoint = os.environ.get("SM_CHECKPOINT_DIR")
    if not checkpoint and Path("/opt/ml/checkpoints").is_dir():
        checkpoint = "/opt/ml/checkpoints"
    return Env(
        model_dir=_env_path("SM_MODEL_DIR", "/opt/ml/model"),
        output_data_dir=_env_path("SM_OUTPUT_DATA_DIR", "/opt/ml/output/data"),
        output_dir=_env_path("SM_OUTPUT_DIR", "/opt/ml/output" if Path("/opt/ml/output").is_dir() else None),
        train_dir=_env_path("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train"),
        validation_dir=_env_path("SM_CHANNEL_VALIDATION", "/opt/ml/input/data/validation"),
        checkpoint_dir=Path(checkpoint) if checkpoint else None,
        raw_hyperparameters=raw,
    )


class Log:
    """stdout lines for people and metric regexes; JSON lines in the output data folder."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._fh = (folder / "train_log.jsonl").open("a", encoding="utf-8")

    def info(self, message: str) -> None:
        print(message, flush=True)
        self.event("info", message=message)

    def event(self, kind: str, **fields) -> None:
        self._fh.write(json.dumps({"time": round(time.time(), 3), "event": kind, **fields}) + "\n")
        self._fh.flush()

    def write_json(self, name: str, data: dict) -> None:
        tmp = self.folder / f".{name}.tmp"
        tmp.write_text(json.dumps(data, indent=2))
        os.replace(tmp, self.folder / name)


# ---- batching ---------------------------------------------------------------------
def plan_steps(n_examples: int, hp: hpmod.Hyperparameters) -> list[tuple[int, list[list[int]], bool]]:
    """Every optimizer step: ``(epoch, micro-batches of example indices, ends its epoch)``.

    Deterministic from the seed, so a resumed run skips exactly the steps already taken.
    """
    steps = []
    for epoch in range(hp.epochs):
        order = list(range(n_examples))
        random.Random(hp.seed + epoch).shuffle(order)
        micro = [order[i : i + hp.per_device_batch_size] for i in range(0, n_examples, hp.per_device_batch_size)]
        groups = [micro[i : i + hp.gradient_accumulation_steps]
                  for i in range(0, len(micro), hp.gradient_accumulation_steps)]
        for j, group in enumerate(groups):
            steps.append((epoch, group, j == len(groups) - 1))
    if hp.max_steps is not None and hp.max_steps < len(steps):
        steps = steps[: hp.max_steps]
        epoch, group, _ = steps[-1]
        steps[-1] = (epoch, group, True)  # evaluate after the last step taken
    return steps


def collate(feats: training_data.Features, idx: list[int], pad_id: int, device):
    import torch

    width = max(len(feats.input_ids[i]) for i in idx)
    ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
    labels = torch.full((len(idx), width), chat_format.IGNORE_INDEX, dtype=torch.long)
    mask = torch.zeros((len(idx), width), dtype=torch.long)
    for row, i in enumerate(idx):
        n = len(feats.input_ids[i])
        ids[row, :n] = torch.tensor(feats.input_ids[i])
        labels[row, :n] = torch.tensor(feats.labels[i])
        mask[row, :n] = 1
    return ids.to(device), labels.to(device), mask.to(device)


def count_targets(feats: training_data.Features, idx: list[int]) -> int:
    return sum(sum(1 for x in feats.labels[i][1:] if x != chat_format.IGNORE_INDEX) for i in idx)


def summed_loss(model, ids, labels, mask, autocast):
    """Sum of token losses over the labelled positions (float32 logits)."""
    import torch
    import torch.nn.functional as F

    with autocast():
        logits = model(input_ids=ids, attention_mask=mask, use_cache=False).logits
    logits = logits[:, :-1, :].float()
    target = labels[:, 1:]
    return F.cross_entropy(
        logits.reshape(-1, logits.size(-1)), target.reshape(-1),
        ignore_index=chat_format.IGNORE_INDEX, reduction="sum",
    ) if target.numel() else torch.zeros((), device=logits.device)


def evaluate(model, feats, batch_size: int, pad_id: int, device, autocast) -> float:
    import torch

    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(feats), batch_size):
            idx = list(range(start, min(start + batch_size, len(feats))))
            ids, labels, mask = collate(feats, idx, pad_id, device)
            total += float(summed_loss(model, ids, labels, mask, autocast))
            count += count_targets(feats, idx)
    if was_training:
        model.train()
    return total / max(1, count)


# ---- checkpoints (managed spot training) -----------------------------------------------
def checkpoint_fingerprint(hp: hpmod.Hyperparameters, train: training_data.Features) -> str:
    import hashlib

    digest = hashlib.sha256(json.dumps(hp.as_dict(), sort_keys=True).encode())
    digest.update(str([len(x) for x in train.input_ids]).encode())
    return digest.hexdigest()[:16]


def save_checkpoint(folder: Path, model, optimizer, scheduler, state: dict) -> None:
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / ".incoming"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    model.save_pretrained(str(tmp / "adapter"))
    torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                "torch_rng": torch.get_rng_state()}, tmp / "trainer_state.pt")
    (tmp / "state.json").write_text(json.dumps(state))
    final = folder / "last"
    old = folder / ".previous"
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    shutil.rmtree(old, ignore_errors=True)


def load_checkpoint(folder: Path | None, fingerprint: str):
    if folder is None:
        return None
    last = folder / "last"
    try:
        state = json.loads((last / "state.json").read_text())
    except (OSError, ValueError):
        return None
    if state.get("fingerprint") != fingerprint:
        return None
    return last, state


# ---- the run ----------------------------------------------------------------------------
def peak_memory_mb(device: str) -> float:
    if device == "cuda":
        import torch

        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


@dataclass
class Examples:
    train: list
    validation: list
    held_out: bool  # validation taken out of train (no validation channel)


@dataclass
class Runtime:
    """Where and how the model runs: CUDA (bf16 or fp16, 4-bit when bitsandbytes is there) or
    CPU (fp32)."""

    device: str
    dtype: object
    four_bit: bool
    gradient_checkpointing: bool

    @property
    def cuda(self) -> bool:
        return self.device == "cuda"

    def autocast(self):
        import contextlib

        import torch

        if self.cuda:
            return torch.autocast(device_type="cuda", dtype=self.dtype)
        return contextlib.nullcontext()


@dataclass
class Tokenized:
    train: training_data.Features
    validation: training_data.Features
    pad_id: int


@dataclass
class Progress:
    """What a resumed run takes over from its checkpoint, and what the loop adds."""

    base_eval: float
    start_step: int = 0
    epoch_sums: dict = field(default_factory=dict)  # epoch -> [loss sum, target tokens]
    eval_history: list = field(default_factory=list)
    steps_run: int = 0
    train_seconds: float = 0.0


# ---- the run's steps, in order -----------------------------------------------------------------
def read_hyperparameters(env: Env, log: Log) -> hpmod.Hyperparameters:
    try:
        hp = hpmod.parse_hyperparameters(env.raw_hyperparameters)
    except hpmod.HyperparameterError as exc:
        raise Failure(hpmod.EXIT_BAD_HYPERPARAMETERS, f"invalid hyperparameters: {exc}") from None
    log.event("hyperparameters", **hp.as_dict())
    return hp


def load_examples(env: Env, hp: hpmod.Hyperparameters, log: Log) -> Examples:
    train_examples, train_stats = training_data.read_channel(env.train_dir)
    val_examples, val_stats = training_data.read_channel(env.validation_dir)
    held_out = False
    if train_examples and not val_examples:
        train_examples, val_examples = training_data.hold_out(train_examples, hp.seed)
        held_out = True
    log.info(f"data: {len(train_examples)} train / {len(val_examples)} validation examples"
             f"{' (validation held out of train)' if held_out else ''}; "
             f"train {train_stats.as_dict()}; validation {val_stats.as_dict()}")
    if not train_examples:
        raise Failure(hpmod.EXIT_BAD_DATA, f"no usable training examples in {env.train_dir} "
                      f"(skipped: {dict(train_stats.skipped)})")
    if not val_examples:
        raise Failure(hpmod.EXIT_BAD_DATA, "no validation examples (and too few to hold some out)")
    return Examples(train_examples, val_examples, held_out)


def prepare_runtime(hp: hpmod.Hyperparameters) -> Runtime:
    """Quiet libraries, threads, seeds, and the device / precision / quantization choice."""
    import base_model
    import torch

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    warnings.filterwarnings("ignore", category=FutureWarning)  # library deprecation chatter
    threads = os.environ.get("NOTICEBOT_TRAIN_THREADS")
    if threads and threads.isdigit() and int(threads) > 0:
        torch.set_num_threads(int(threads))
    random.seed(hp.seed)
    torch.manual_seed(hp.seed)

    cuda = torch.cuda.is_available()
    if cuda:
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    else:
        dtype = torch.float32
    if hp.load_in_4bit == "true" and not (cuda and base_model.bitsandbytes_available()):
        raise Failure(hpmod.EXIT_BAD_HYPERPARAMETERS,
                      "load_in_4bit: true needs a CUDA GPU and the bitsandbytes package")
    return Runtime(
        device="cuda" if cuda else "cpu", dtype=dtype,
        four_bit=cuda and hp.load_in_4bit != "false" and base_model.bitsandbytes_available(),
        gradient_checkpointing=hp.gradient_checkpointing == "true"
        or (hp.gradient_checkpointing == "auto" and cuda),
    )


def load_tokenizer(hp: hpmod.Hyperparameters, log: Log):
    """``(tokenizer, path to load the model from, where the model came from)``; the tokenizer
    must hold the chat template's control tokens as single entries."""
    import base_model

    try:
        model_path, origin = base_model.resolve(
            hp.model_name_or_path, hpmod.DEFAULT_BASE_MODEL, log=log.info)
    except FileNotFoundError as exc:
        raise Failure(hpmod.EXIT_BAD_HYPERPARAMETERS, f"model_name_or_path: {exc}") from None
    tokenizer = base_model.load_tokenizer(model_path)
    missing = chat_format.missing_template_tokens(
        hp.chat_template, lambda t: tokenizer.convert_tokens_to_ids(t)
        if t in tokenizer.get_vocab() else None)
    if missing:
        other = [t for t in hpmod.CHAT_TEMPLATES if t != hp.chat_template]
        raise Failure(hpmod.EXIT_BAD_HYPERPARAMETERS,
                      f"chat_template: the tokenizer of {origin} lacks {', '.join(missing)} "
                      f"as single tokens; this model needs another template ({', '.join(other)}?)")
    return tokenizer, model_path, origin


def tokenize_examples(examples: Examples, tokenizer, hp: hpmod.Hyperparameters, log: Log) -> Tokenized:
    def encode(text: str) -> list[int]:
        return tokenizer(text, add_special_tokens=False)["input_ids"]

    train = training_data.tokenize(examples.train, hp.chat_template, encode, hp.max_seq_length)
    val = training_data.tokenize(examples.validation, hp.chat_template, encode, hp.max_seq_length)
    log.info(f"tokens: {len(train)} train sequences ({train.target_tokens} target tokens, "
             f"{train.truncated} cut at {hp.max_seq_length}, {train.dropped} dropped); "
             f"{len(val)} validation sequences ({val.target_tokens} target tokens)")
    if not len(train) or not train.target_tokens:
        raise Failure(hpmod.EXIT_BAD_DATA, "no training example keeps an answer within max_seq_length")
    if not len(val) or not val.target_tokens:
        raise Failure(hpmod.EXIT_BAD_DATA, "no validation example keeps an answer within max_seq_length")
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    return Tokenized(train, val, pad_id)


def load_model(model_path: str, origin: str, runtime: Runtime, log: Log):
    import base_model

    t_load = time.time()
    model = base_model.load_model(model_path, device=runtime.device, dtype=runtime.dtype,
                                  load_in_4bit=runtime.four_bit)
    model.config.use_cache = False
    log.info(f"model: {origin} on {runtime.device} ({str(runtime.dtype).replace('torch.', '')}"
             f"{', 4-bit QLoRA' if runtime.four_bit else ''}) loaded in {time.time() - t_load:.1f} s")
    return model


def evaluate_base_model(model, data: Tokenized, resumed, total_steps: int, hp: hpmod.Hyperparameters,
                        runtime: Runtime, log: Log) -> Progress:
    """The base model's validation loss, measured before training on the fine-tune's tokens
    (a resumed run takes it from its checkpoint), and where the run starts."""
    if resumed is not None:
        base_eval = float(resumed[1]["base_eval_loss"])
        log.info(f"resuming from checkpoint at step {resumed[1]['global_step']}/{total_steps}")
    else:
        t0 = time.time()
        base_eval = evaluate(model, data.validation, max(1, hp.per_device_batch_size), data.pad_id,
                             runtime.device, runtime.autocast)
        log.info(f"base model on the validation split: {hpmod.metric_fragment('base_eval_loss', base_eval)}"
                 f" ({time.time() - t0:.1f} s)")
    log.event("metric", name="base_eval_loss", value=base_eval)
    return Progress(base_eval=base_eval)


def add_lora(model, hp: hpmod.Hyperparameters, runtime: Runtime, log: Log):
    """``(the PEFT model, its trainable parameter count)``."""
    from peft import LoraConfig, get_peft_model

    if runtime.four_bit:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=runtime.gradient_checkpointing)
    elif runtime.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.enable_input_require_grads()
    lora = LoraConfig(
        r=hp.lora_r, lora_alpha=hp.lora_alpha, lora_dropout=hp.lora_dropout,
        target_modules=hp.target_modules, bias="none", task_type="CAUSAL_LM",
    )
    try:
        model = get_peft_model(model, lora)
    except ValueError as exc:  # e.g. target modules not in this model
        raise Failure(hpmod.EXIT_BAD_HYPERPARAMETERS, f"lora_target_modules: {exc}") from None
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total_params = sum(p.numel() for p in model.parameters())
    log.info(f"LoRA r={hp.lora_r} alpha={hp.lora_alpha} on {hp.lora_target_modules}: "
             f"{trainable:,} trainable of {total_params:,} parameters")
    return model, trainable


def make_optimizer(model, hp: hpmod.Hyperparameters, total_steps: int, runtime: Runtime):
    """``(trainable parameters, optimizer, scheduler, gradient scaler or None)``."""
    import torch
    from transformers import get_scheduler

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=hp.learning_rate, weight_decay=hp.weight_decay)
    scheduler = get_scheduler(
        "constant_with_warmup" if hp.lr_scheduler == "constant" else hp.lr_scheduler,
        optimizer, num_warmup_steps=int(round(hp.warmup_ratio * total_steps)),
        num_training_steps=total_steps,
    )
    # fp16 (GPUs without bf16, e.g. T4): loss scaling; the LoRA weights PEFT adds are fp32.
    scaler = torch.amp.GradScaler("cuda") if (runtime.cuda and runtime.dtype == torch.float16) else None
    return params, optimizer, scheduler, scaler


def restore_checkpoint(resumed, model, optimizer, scheduler, progress: Progress, device: str) -> None:
    import torch
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    folder, state = resumed
    set_peft_model_state_dict(model, load_file(str(folder / "adapter" / "adapter_model.safetensors")))
    trainer_state = torch.load(folder / "trainer_state.pt", map_location=device, weights_only=True)
    optimizer.load_state_dict(trainer_state["optimizer"])
    scheduler.load_state_dict(trainer_state["scheduler"])
    torch.set_rng_state(trainer_state["torch_rng"].cpu())
    progress.start_step = int(state["global_step"])
    progress.epoch_sums = {int(k): v for k, v in state.get("epoch_sums", {}).items()}
    progress.eval_history = state.get("eval_history", [])


def train_lora(model, data: Tokenized, steps, hp: hpmod.Hyperparameters, runtime: Runtime, env: Env,
               log: Log, progress: Progress, optimizer_parts, fingerprint: str) -> None:
    """The optimizer steps from ``progress.start_step``: ``train_loss`` every logging step,
    ``eval_loss`` at every epoch's end, a checkpoint at save steps and epoch ends."""
    import torch

    params, optimizer, scheduler, scaler = optimizer_parts
    train_set = data.train
    total_steps = len(steps)
    steps_per_epoch = sum(1 for s in steps if s[0] == 0) or 1
    eval_batch = max(1, hp.per_device_batch_size)
    logging_steps = hp.logging_steps or max(1, min(25, total_steps // 10))
    save_steps = hp.save_steps or 50
    log.info(f"training: {total_steps} optimizer steps ({steps_per_epoch} an epoch, batch "
             f"{hp.per_device_batch_size} x {hp.gradient_accumulation_steps} accumulation), "
             f"logging every {logging_steps}")

    stop_after = os.environ.get(ENV_STOP_AFTER)
    stop_after = int(stop_after) if stop_after and stop_after.isdigit() else None
    model.train()
    window_sum, window_tokens = 0.0, 0
    t_train = time.time()
    for step in range(progress.start_step, total_steps):
        epoch, group, ends_epoch = steps[step]
        n_targets = sum(count_targets(train_set, idx) for idx in group)
        step_sum = 0.0
        for idx in group:
            ids, labels, mask = collate(train_set, idx, data.pad_id, runtime.device)
            loss_sum = summed_loss(model, ids, labels, mask, runtime.autocast)
            loss = loss_sum / max(1, n_targets)  # per-token mean over the whole step
            if scaler is not None:
                scaler.scale(loss).backward()
            else:
                loss.backward()
            step_sum += float(loss_sum.detach())
        if scaler is not None:
            scaler.unscale_(optimizer)
        if hp.max_grad_norm > 0:
            torch.nn.utils.clip_grad_norm_(params, hp.max_grad_norm)
        if scaler is not None:
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        progress.steps_run += 1
        if not math.isfinite(step_sum):
            raise Failure(1, f"training loss is not finite at step {step + 1}; lower learning_rate")
        window_sum += step_sum
        window_tokens += n_targets
        sums = progress.epoch_sums.setdefault(epoch, [0.0, 0])
        sums[0] += step_sum
        sums[1] += n_targets
        done = step + 1
        epoch_progress = epoch + (done - epoch * steps_per_epoch) / steps_per_epoch
        if done % logging_steps == 0 or done == total_steps:
            train_loss = window_sum / max(1, window_tokens)
            lr = scheduler.get_last_lr()[0]
            print(f"step={done}/{total_steps} epoch={epoch_progress:.2f} "
                  f"{hpmod.metric_fragment('train_loss', train_loss)} learning_rate={lr:.3e}", flush=True)
            log.event("metric", name="train_loss", value=train_loss, step=done, epoch=epoch_progress)
            history = progress.eval_history
            log.write_json("progress.json", {
                "step": done, "total_steps": total_steps, "epoch": round(epoch_progress, 4),
                "train_loss": train_loss, "eval_loss": history[-1]["eval_loss"] if history else None,
                "base_eval_loss": progress.base_eval, "elapsed_seconds": round(time.time() - t_train, 1),
            })
            window_sum, window_tokens = 0.0, 0
        if ends_epoch:
            eval_loss = evaluate(model, data.validation, eval_batch, data.pad_id, runtime.device,
                                 runtime.autocast)
            print(f"step={done}/{total_steps} epoch={epoch_progress:.2f} "
                  f"{hpmod.metric_fragment('eval_loss', eval_loss)}", flush=True)
            log.event("metric", name="eval_loss", value=eval_loss, step=done, epoch=epoch_progress)
            progress.eval_history.append({"step": done, "epoch": round(epoch_progress, 4), "eval_loss": eval_loss})
        if env.checkpoint_dir is not None and done < total_steps and (done % save_steps == 0 or ends_epoch):
            save_checkpoint(env.checkpoint_dir, model, optimizer, scheduler, {
                "fingerprint": fingerprint, "global_step": done, "base_eval_loss": progress.base_eval,
                "epoch_sums": progress.epoch_sums, "eval_history": progress.eval_history,
            })
        if stop_after is not None and done == stop_after and done < total_steps:
            raise Failure(EXIT_INTERRUPTED, f"stopped after step {done} ({ENV_STOP_AFTER} is set)")
    progress.train_seconds = time.time() - t_train


def save_adapter(model, model_dir: Path, origin: str) -> None:
    """The PEFT adapter in SM_MODEL_DIR, naming the base model it was trained on."""
    model_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(model_dir), safe_serialization=True)
    config_path = model_dir / "adapter_config.json"
    config = json.loads(config_path.read_text())
    config["base_model_name_or_path"] = origin
    config_path.write_text(json.dumps(config, indent=2))


def report(env: Env, log: Log, hp: hpmod.Hyperparameters, examples: Examples, data: Tokenized,
           progress: Progress, runtime: Runtime, total_steps: int, trainable: int, origin: str) -> dict:
    """metrics.json beside the adapter and in the output data, and the closing line."""
    last_epoch = max(progress.epoch_sums) if progress.epoch_sums else 0
    last_sum, last_tokens = progress.epoch_sums.get(last_epoch, [0.0, 0])
    history = progress.eval_history
    eval_loss = history[-1]["eval_loss"] if history else progress.base_eval
    train_seconds = progress.train_seconds
    metrics = {
        "train_loss": last_sum / max(1, last_tokens),  # token mean over the last epoch's steps
        "eval_loss": eval_loss,
        "base_eval_loss": progress.base_eval,
        "steps": total_steps,
        "train_seconds": round(train_seconds, 3),
        "examples": len(examples.train),
        "validation_examples": len(examples.validation),
        "validation_held_out": examples.held_out,
        "train_sequences": len(data.train),
        "train_target_tokens": data.train.target_tokens,
        "validation_target_tokens": data.validation.target_tokens,
        "epochs": hp.epochs,
        "steps_per_second": round(progress.steps_run / train_seconds, 4) if train_seconds > 0 else None,
        "resumed_from_step": progress.start_step or None,
        "eval_history": history,
        "peak_memory_mb": round(peak_memory_mb(runtime.device), 1),
        "device": runtime.device,
        "dtype": str(runtime.dtype).replace("torch.", ""),
        "quantization": "nf4" if runtime.four_bit else None,
        "trainable_parameters": trainable,
        "base_model": origin,
        "chat_template": hp.chat_template,
        "hyperparameters": hp.as_dict(),
    }
    (env.model_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
    log.write_json("metrics.json", metrics)
    if env.checkpoint_dir is not None:
        shutil.rmtree(env.checkpoint_dir / "last", ignore_errors=True)  # the job is done
    # Not in metric form: the regexes must see each evaluation once.
    log.info(f"done: validation loss {eval_loss:.4f} (base model {progress.base_eval:.4f}) in "
             f"{train_seconds:.1f} s ({metrics['steps_per_second']} steps/s); adapter in {env.model_dir}")
    return metrics


def run(env: Env, log: Log) -> dict:
    hp = read_hyperparameters(env, log)
    examples = load_examples(env, hp, log)
    runtime = prepare_runtime(hp)
    tokenizer, model_path, origin = load_tokenizer(hp, log)
    data = tokenize_examples(examples, tokenizer, hp, log)
    model = load_model(model_path, origin, runtime, log)

    steps = plan_steps(len(data.train), hp)
    fingerprint = checkpoint_fingerprint(hp, data.train)
    resumed = load_checkpoint(env.checkpoint_dir, fingerprint)
    progress = evaluate_base_model(model, data, resumed, len(steps), hp, runtime, log)
    model, trainable = add_lora(model, hp, runtime, log)
    optimizer_parts = make_optimizer(model, hp, len(steps), runtime)
    if resumed is not None:
        _, optimizer, scheduler, _ = optimizer_parts
        restore_checkpoint(resumed, model, optimizer, scheduler, progress, runtime.device)

    train_lora(model, data, steps, hp, runtime, env, log, progress, optimizer_parts, fingerprint)
    save_adapter(model, env.model_dir, origin)
    return report(env, log, hp, examples, data, progress, runtime, len(steps), trainable, origin)


def write_failure(env: Env | None, code: int, message: str) -> None:
    if env is None:
        return
    try:
        env.output_data_dir.mkdir(parents=True, exist_ok=True)
        (env.output_data_dir / "failure.json").write_text(json.dumps({"exit_code": code, "message": message}))
        if env.output_dir is not None:
            env.output_dir.mkdir(parents=True, exist_ok=True)
            (env.output_dir / "failure").write_text(message[:1000])  # SageMaker's FailureReason
    except OSError:
        pass


def main(argv: list[str] | None = None) -> int:
    env = None
    try:
        env = read_env(sys.argv[1:] if argv is None else argv)
        log = Log(env.output_data_dir)
        run(env, log)
        return 0
    except Failure as exc:
        print(f"ERROR: {exc.message}", file=sys.stderr, flush=True)
        write_failure(env, exc.code, exc.message)
        return exc.code
    except Exception as exc:  # noqa: BLE001 - report it where SageMaker shows it, then fail
        traceback.print_exc()
        write_failure(env, 1, f"{type(exc).__name__}: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
