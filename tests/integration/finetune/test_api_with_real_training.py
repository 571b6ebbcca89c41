"""The local API flow with the REAL train.py and the real local model server: upload Q&A
JSONL -> POST /api/fine-tune -> the subprocess launcher runs sagemaker/training/train.py on a
tiny LLaMA (real LLaMA 3 tokenizer) under the SageMaker layout -> its exit event -> the deploy
handler copies the adapter to <data>/models and registers it with LocalModelEndpoint ->
activated by the loss rule -> chat answers through the adapter (and falls back to the base
model, with a warning, when the adapter cannot load). Skipped without torch/peft/tokenizer."""

import json

import tinyllama

from apiclient import ApiClient, claims_for
from fakes import FakeEmbedder
from noticebot.adapters.endpoint_chat_model import EndpointChatModel
from noticebot.config import Settings
from noticebot.entrypoints.local_stack import local_stack
from noticebot.handlers.api.app import handler_for
from noticebot.llm.content_handlers import Llama3ContentHandler
from noticebot.model_server.llama_cpp_backend import LocalModelEndpoint
from tuning_fakes import upload

EDITOR = claims_for("maria", "riverside", editor=True)
MEMBER = claims_for("sam", "riverside")
PARAMETERS = {"epochs": 2, "learning_rate": 1e-2, "lora_r": 8, "lora_alpha": 16,
              "lora_dropout": 0.0, "max_seq_length": 64, "per_device_batch_size": 8,
              "gradient_accumulation_steps": 1, "seed": 1}


def test_api_fine_tune_with_train_py_and_the_local_model_server(tiny_llama, tmp_path):
    endpoint = LocalModelEndpoint(tmp_path / "no.gguf", hf_model_dir=tiny_llama, n_threads=1)
    chat_model = EndpointChatModel(endpoint, Llama3ContentHandler(), "tiny-llama")
    container = local_stack(Settings(data_dir=tmp_path / "data", base_model=str(tiny_llama),
                                     training_chat_template="llama3", chat_max_new_tokens=8),
                            embedder=FakeEmbedder(), chat_model=chat_model)
    api = ApiClient(handler_for(container))
    records = tinyllama.qa_records(50, seed=1)
    data = "".join(json.dumps(r) + "\n" for r in records).encode()
    upload(api, EDITOR, "colours.jsonl", data, "application/jsonl", container=container)
    api.call("POST", "/api/notices", {"title": "Boat", "body": "The boat is red."},
             claims=EDITOR)

    status, started = api.call("POST", "/api/fine-tune", {"parameters": PARAMETERS},
                               claims=EDITOR)
    assert status == 202, started
    assert container.launcher.wait(started["job_id"], timeout=240)
    _, job = api.call("GET", f"/api/fine-tune/{started['job_id']}", claims=MEMBER)
    log = container.launcher.folder(container.metadata.get_job("riverside", job["job_id"]))
    assert job["status"] == "completed", (job, (log / "output" / "train.log").read_text()[-3000:])
    metrics = job["metrics"]
    assert metrics["eval_loss"] < metrics["base_eval_loss"] and metrics["steps"] > 0
    model_id = job["model_id"]
    _, listing = api.call("GET", "/api/models", claims=MEMBER)
    assert listing["active_model_id"] == model_id and listing["models"][0]["active"]
    (name,) = endpoint.adapters()
    assert name.startswith(model_id)

    _, answer = api.call("POST", "/api/chat", {"query": "What colour is the boat?"},
                         claims=MEMBER)
    assert answer["model"] == model_id and answer["warning"] is None

    endpoint.unregister_adapter(name)  # the adapter vanished: the base model answers
    _, answer = api.call("POST", "/api/chat", {"query": "What colour is the boat?"},
                         claims=MEMBER)
    assert answer["model"] == "tiny-llama" and model_id in answer["warning"]
