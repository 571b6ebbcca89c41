"""train.py end to end on CPU under the SageMaker folder layout, then the adapter served.

The model is a tiny random-weight LLaMA (hidden 64, 2 layers) with the real LLaMA 3
tokenizer (128k vocabulary), so the run takes seconds and the template, masking and
adapter files are the real ones. Its answers are noise; what is checked is that LoRA
learns (validation loss falls below the base model's on the same split), that the adapter
round-trips into the local model server, and that the payload contract holds for it.
"""

import http.client
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import hyperparameters as hp
import pytest
import tinyllama

from noticebot.adapters.endpoint_chat_model import EndpointChatModel
from noticebot.domain.models import Message
from noticebot.llm.content_handlers import Llama3ContentHandler
from noticebot.model_server.http_server import make_server
from noticebot.model_server.llama_cpp_backend import LocalModelEndpoint
from noticebot.ports.chat_model import GenerationParams

TRAIN_PY = Path(__file__).resolve().parents[3] / "sagemaker" / "training" / "train.py"

HYPERPARAMETERS = {
    "epochs": 2, "learning_rate": 1e-2, "lora_r": 8, "lora_alpha": 16, "lora_dropout": 0.0,
    "max_seq_length": 64, "per_device_batch_size": 8, "gradient_accumulation_steps": 1,
    "chat_template": "llama3", "seed": 1, "warmup_ratio": 0.0,
}


def run_job(root, model, extra=None, env_extra=None, validation=True):
    env = tinyllama.sagemaker_layout(
        root, tinyllama.qa_records(40, seed=1), tinyllama.qa_records(10, seed=2) if validation else None,
        {"model_name_or_path": str(model), **HYPERPARAMETERS, **(extra or {})})
    base = {k: v for k, v in os.environ.items() if not k.startswith("SM_")}
    started = time.time()
    proc = subprocess.run([sys.executable, str(TRAIN_PY)], env={**base, **env, **(env_extra or {})},
                          capture_output=True, text=True, timeout=300)
    return proc, env, time.time() - started


def metric_values(stdout, name):
    (definition,) = [d for d in hp.METRIC_DEFINITIONS if d["Name"] == name]
    return [float(v) for v in re.findall(definition["Regex"], stdout)]


@pytest.fixture(scope="module")
def trained(tiny_llama, tmp_path_factory):
    proc, env, seconds = run_job(tmp_path_factory.mktemp("job"), tiny_llama)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc, env, seconds


def test_train_py_learns_and_writes_the_sagemaker_outputs(trained):
    proc, env, seconds = trained
    assert seconds < 60, f"train.py took {seconds:.1f} s"
    model_dir = Path(env["SM_MODEL_DIR"])
    assert (model_dir / "adapter_config.json").is_file()
    assert (model_dir / "adapter_model.safetensors").is_file()
    config = json.loads((model_dir / "adapter_config.json").read_text())
    assert config["peft_type"] == "LORA" and config["r"] == 8 and config["task_type"] == "CAUSAL_LM"
    metrics = json.loads((model_dir / "metrics.json").read_text())
    assert {"train_loss", "eval_loss", "base_eval_loss", "steps", "train_seconds", "examples"} <= set(metrics)
    assert metrics["eval_loss"] < metrics["base_eval_loss"], metrics
    assert metrics["steps"] == 2 * -(-metrics["examples"] // 8) and metrics["train_seconds"] > 0
    assert metrics["device"] == "cpu" and metrics["dtype"] == "float32" and metrics["quantization"] is None
    # the lines SageMaker's metric definitions read
    train_losses = metric_values(proc.stdout, "train_loss")
    eval_losses = metric_values(proc.stdout, "eval_loss")
    assert len(train_losses) >= 2 and len(eval_losses) == 2  # one per epoch
    assert metric_values(proc.stdout, "base_eval_loss")[0] == pytest.approx(metrics["base_eval_loss"], abs=1e-5)
    assert eval_losses[-1] == pytest.approx(metrics["eval_loss"], abs=1e-5)
    # the output data folder: logs, progress, metrics
    out = Path(env["SM_OUTPUT_DATA_DIR"])
    assert json.loads((out / "progress.json").read_text())["step"] == metrics["steps"]
    assert json.loads((out / "metrics.json").read_text())["eval_loss"] == metrics["eval_loss"]
    events = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert {e["event"] for e in events} >= {"hyperparameters", "metric", "info"}
    assert not (Path(env["SM_CHECKPOINT_DIR"]) / "last").exists()  # cleaned up once done


def test_the_adapter_answers_through_the_local_model_server(trained, tiny_llama, tmp_path):
    _, env, _ = trained
    endpoint = LocalModelEndpoint(tmp_path / "no-gguf.gguf", hf_model_dir=tiny_llama, n_threads=1)
    endpoint.register_adapter("ws-1", env["SM_MODEL_DIR"], preload=True)
    assert list(endpoint.adapters()) == ["ws-1"]
    handler = Llama3ContentHandler()
    messages = [Message(role="system", content="Answer from the club's notice board."),
                Message(role="user", content="What colour is the boat?")]
    body = handler.transform_input(messages, GenerationParams(max_new_tokens=8, temperature=0))

    tuned = json.loads(endpoint.invoke(body, target="ws-1"))
    assert set(tuned) == {"generated_text", "details"} and tuned["generated_text"]
    assert tuned["details"]["generated_tokens"] >= 1 and tuned["details"]["prompt_tokens"] > 10
    assert tuned["details"]["finish_reason"] in ("stop", "length")
    base = json.loads(endpoint.invoke(body))  # no GGUF here: the base runs in transformers too
    assert base["generated_text"] != tuned["generated_text"]  # the adapter changes the answer
    assert json.loads(endpoint.invoke(body, target="ws-1")) == tuned  # greedy: repeatable
    text = tuned["generated_text"]
    if len(text) >= 6:  # a stop string ends generation, and is not part of the text
        stop = text[len(text) // 2 : len(text) // 2 + 3]
        payload = json.loads(body)
        payload["parameters"]["stop"] = [stop]
        cut = json.loads(endpoint.invoke(json.dumps(payload).encode(), target="ws-1"))
        assert cut["generated_text"] == text[: text.find(stop)]
        assert cut["details"]["finish_reason"] == "stop"

    # the same bytes over HTTP, adapter named as SageMaker names an inference component
    srv = make_server(endpoint, port=0)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", srv.server_address[1], timeout=30)
        conn.request("POST", "/invocations", body=body, headers={"X-Amzn-SageMaker-Inference-Component": "ws-1"})
        response = conn.getresponse()
        answer = json.loads(response.read())
        conn.close()
        assert response.status == 200 and answer == tuned
    finally:
        srv.shutdown()
        srv.server_close()

    # the ChatModel port on top: generate and stream name the adapter
    chat = EndpointChatModel(endpoint, handler, "tiny-llama")
    completion = chat.generate(messages, GenerationParams(max_new_tokens=8, temperature=0), adapter="ws-1")
    assert completion.extra["adapter"] == "ws-1" and completion.text == tuned["generated_text"].split("<|eot_id|>")[0]
    pieces = list(chat.stream(messages, GenerationParams(max_new_tokens=8, temperature=0), adapter="ws-1"))
    assert "".join(pieces) == completion.text

    assert endpoint.unregister_adapter("ws-1") and endpoint.adapters() == {}
    assert json.loads(endpoint.invoke(body)) == base  # LoRA layers gone, base unchanged


def test_a_spot_interruption_resumes_from_the_checkpoint(tiny_llama, tmp_path):
    extra = {"save_steps": 2, "epochs": 1}
    proc, env, _ = run_job(tmp_path, tiny_llama, extra, {"NOTICEBOT_TRAIN_STOP_AFTER_STEP": "2"},
                           validation=False)
    assert proc.returncode == 75, proc.stderr[-2000:]
    assert (Path(env["SM_CHECKPOINT_DIR"]) / "last" / "state.json").is_file()
    proc, env, _ = run_job(tmp_path, tiny_llama, extra, validation=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "resuming from checkpoint at step 2/" in proc.stdout
    metrics = json.loads((Path(env["SM_MODEL_DIR"]) / "metrics.json").read_text())
    assert metrics["resumed_from_step"] == 2 and metrics["validation_held_out"] is True
    assert metrics["eval_loss"] < metrics["base_eval_loss"]


def test_a_template_the_tokenizer_cannot_express_is_a_bad_hyperparameter(tiny_llama, tmp_path):
    proc, _, _ = run_job(tmp_path, tiny_llama, {"chat_template": "chatml"})
    assert proc.returncode == hp.EXIT_BAD_HYPERPARAMETERS
    assert "chat_template" in proc.stderr and "<|im_start|>" in proc.stderr


def load_container_server():
    import importlib.util

    path = TRAIN_PY.parents[1] / "serving" / "server.py"
    spec = importlib.util.spec_from_file_location("noticebot_sagemaker_serving_server", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_sagemaker_container_server_selects_adapters_per_request(trained, tiny_llama, tmp_path):
    import shutil

    server = load_container_server()
    _, env, _ = trained
    root = tmp_path / "opt-ml-model"
    root.mkdir()
    (root / "base").symlink_to(tiny_llama, target_is_directory=True)
    shutil.copytree(env["SM_MODEL_DIR"], root / "adapters" / "ws-1")
    endpoint = server.ContainerEndpoint(root, root / "adapters", n_ctx=512)
    assert endpoint.refresh() == ["ws-1"] and endpoint.base_model_dir == root / "base"
    srv = make_server(endpoint, port=0)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    handler = Llama3ContentHandler()
    payload = handler.build_payload([Message(role="user", content="What colour is the oar?")],
                                    GenerationParams(max_new_tokens=6, temperature=0))

    def post(body, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", srv.server_address[1], timeout=30)
        conn.request("POST", "/invocations", body=json.dumps(body), headers=headers or {})
        response = conn.getresponse()
        result = response.status, json.loads(response.read())
        conn.close()
        return result

    try:
        conn = http.client.HTTPConnection("127.0.0.1", srv.server_address[1], timeout=5)
        conn.request("GET", "/ping")
        pong = conn.getresponse()
        pong.read()
        conn.close()
        assert pong.status == 200
        status, by_model_header = post(payload, {"X-Amzn-SageMaker-Target-Model": "ws-1.tar.gz"})
        assert status == 200 and set(by_model_header) == {"generated_text", "details"}
        assert post({**payload, "adapter": "ws-1"}) == (200, by_model_header)
        status, base = post(payload)
        assert status == 200 and base["generated_text"] != by_model_header["generated_text"]
        shutil.copytree(env["SM_MODEL_DIR"], root / "adapters" / "ws-2")  # arrives after start
        assert post(payload, {"X-Amzn-SageMaker-Inference-Component": "ws-2"}) == (200, by_model_header)
        status, error = post(payload, {"X-Amzn-SageMaker-Inference-Component": "ws-3"})
        assert status == 503 and "not deployed" in error["error"]
    finally:
        srv.shutdown()
        srv.server_close()
    assert server.discover_adapters(root / "adapters" / "ws-1", tmp_path / "none") == {
        "default": root / "adapters" / "ws-1"}


def test_an_adapter_that_does_not_fit_the_base_is_refused_and_the_rest_keep_working(
        trained, tiny_llama, tmp_path):
    import shutil

    from safetensors.torch import load_file, save_file

    from noticebot.domain.errors import ModelUnavailable

    _, env, _ = trained
    bad = tmp_path / "bad"
    shutil.copytree(env["SM_MODEL_DIR"], bad)
    weights = load_file(str(bad / "adapter_model.safetensors"))
    # rank 7 tensors under a rank-8 config: what an adapter of another base model looks like
    save_file({k: (v[:7] if "lora_A" in k else v[:, :7]).contiguous() for k, v in weights.items()},
              str(bad / "adapter_model.safetensors"))
    endpoint = LocalModelEndpoint(tmp_path / "no.gguf", hf_model_dir=tiny_llama, n_threads=1)
    body = Llama3ContentHandler().transform_input(
        [Message(role="user", content="What colour is the rope?")], GenerationParams(max_new_tokens=5, temperature=0))
    base = endpoint.invoke(body)
    endpoint.register_adapter("good", env["SM_MODEL_DIR"])
    good = endpoint.invoke(body, target="good")
    with pytest.raises(ModelUnavailable, match="cannot be loaded"):
        endpoint.register_adapter("bad", bad, preload=True)
    assert list(endpoint.adapters()) == ["good"]  # refused at deploy time
    endpoint.register_adapter("bad-lazy", bad)  # not preloaded: fails on first use instead
    with pytest.raises(ModelUnavailable, match="cannot be loaded"):
        endpoint.invoke(body, target="bad-lazy")
    with pytest.raises(ModelUnavailable, match="cannot be loaded"):
        endpoint.invoke(body, target="bad-lazy")  # remembered, not retried per request
    assert endpoint.invoke(body) == base and endpoint.invoke(body, target="good") == good
