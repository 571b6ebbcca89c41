"""An onnxruntime session on the CPU, as the project's small models (embedder, cross-encoder)
run it. onnxruntime is imported here, on first load, never at import (cold start)."""

from __future__ import annotations

from pathlib import Path

from noticebot.domain.errors import ModelUnavailable


def load_cpu_session(model_path: Path, threads: int, what: str):
    """``what`` names the model in the error a caller sees ("embedding model")."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Idle threads sleep instead of spinning: with other work on the cores (ingest next to
    # chat and search), spinning halved throughput here.
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(str(model_path), opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # corrupt file, wrong opset, ...
        raise ModelUnavailable(f"cannot load {what}: {exc}") from exc
