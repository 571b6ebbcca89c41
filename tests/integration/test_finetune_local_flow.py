"""The fine-tune flow end to end in local mode, through the API handler: upload Q&A data ->
POST /api/fine-tune -> train.py runs as a subprocess (a stand-in with train.py's contract,
tests/fixtures/training/fake_train.py, for speed; the real train.py has its own integration
test) -> its exit is the completion event -> the deploy handler registers the adapter in
<data>/models and registers it with the model server -> activated by the loss rule -> chat
reports which model answered. Real local adapters throughout (SQLite, folder blobs, the
embedded index, the subprocess launcher, the disk registry); fakes only for the embedder
and the language model."""

from pathlib import Path

import pytest

from apiclient import ApiClient, claims_for
from fakes import FakeEmbedder
from noticebot.config import Settings
from noticebot.entrypoints.local_stack import local_stack
from noticebot.handlers.api.app import handler_for
from tuning_fakes import AdapterChatModel, qa_csv, upload

SCRIPT = Path(__file__).parents[1] / "fixtures" / "training" / "fake_train.py"
EDITOR = claims_for("maria", "riverside", editor=True)
MEMBER = claims_for("sam", "riverside")


def start(data: Path):
    chat_model = AdapterChatModel()
    container = local_stack(Settings(data_dir=data, train_script=str(SCRIPT)),
                            embedder=FakeEmbedder(), chat_model=chat_model)
    return container, chat_model


@pytest.fixture
def stack(tmp_path):
    return start(tmp_path / "data")


def fine_tune(api, container, **parameters) -> dict:
    status, started = api.call("POST", "/api/fine-tune", {"parameters": parameters}, claims=EDITOR)
    assert status == 202, started
    assert container.launcher.wait(started["job_id"], timeout=60)
    status, job = api.call("GET", f"/api/fine-tune/{started['job_id']}", claims=MEMBER)
    assert status == 200
    return job


def test_upload_fine_tune_deploy_activate_chat(stack, tmp_path):
    container, chat_model = stack
    api = ApiClient(handler_for(container))
    upload(api, EDITOR, "faq.csv", qa_csv(), container=container)
    api.call("POST", "/api/notices", {"title": "Choir", "body": "Choir practice is on Monday "
                                                                "evenings in the hall."},
             claims=EDITOR)

    job = fine_tune(api, container, epochs=2, learning_rate=0.0002)
    assert job["status"] == "completed", job
    assert job["metrics"]["eval_loss"] < job["metrics"]["base_eval_loss"]
    assert job["dataset"]["qa_pairs"] == 12 and job["dataset"]["text_passages"] >= 1
    model_id = job["model_id"]
    _, listing = api.call("GET", "/api/models", claims=MEMBER)
    assert listing["active_model_id"] == model_id
    assert listing["models"][0]["active"] and "beat the base" in listing["models"][0]["reason"]
    folder = tmp_path / "data" / "models" / "riverside" / model_id
    assert (folder / "adapter_config.json").is_file() and (folder / "version.json").is_file()
    name = container.registry.adapter_name(container.metadata.get_model("riverside", model_id))
    assert name.startswith(model_id) and chat_model.adapters == {name: str(folder)}

    _, answer = api.call("POST", "/api/chat", {"query": "When is choir practice?"}, claims=MEMBER)
    assert answer["model"] == model_id and answer["warning"] is None
    assert chat_model.adapters_used[-1] == name

    # a run whose validation loss does not beat the base model stays inactive
    worse = fine_tune(api, container, learning_rate=0.008)
    assert worse["status"] == "completed"
    _, listing = api.call("GET", "/api/models", claims=MEMBER)
    assert listing["active_model_id"] == model_id
    newest = listing["models"][0]
    assert newest["model_id"] == worse["model_id"] and not newest["active"]
    assert "did not beat" in newest["reason"]

    # bad hyperparameters that only train.py catches fail the job with its reason
    failed = fine_tune(api, container, epochs=13)
    assert failed["status"] == "failed" and "epochs: unlucky" in failed["error"]

    # a restarted server registers the deployed adapters again and keeps answering with it
    container2, chat_model2 = start(tmp_path / "data")
    assert {n.rsplit("-", 1)[0] for n in chat_model2.adapters} == {model_id, worse["model_id"]}
    _, answer = ApiClient(handler_for(container2)).call("POST", "/api/chat", {"query": "When is choir practice?"},
                                        claims=MEMBER)
    assert answer["model"] == model_id
