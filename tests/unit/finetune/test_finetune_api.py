"""The fine-tune and model routes through the API handler, with a launcher and registry that
record (tests/tuning_fakes.py): validation, editors only, one job per workspace, tenancy, the
activation rule, roll back, and chat routing with its fallback warning."""

from noticebot.domain.errors import ModelUnavailable
from noticebot.domain.tuning import JobStatus
from tuning_fakes import upload


def start(api, claims, **parameters):
    return api.call("POST", "/api/fine-tune", {"parameters": parameters}, claims=claims)


def test_start_builds_the_dataset_and_launches(api, editor, board):
    status, body = start(api, editor, epochs=2, learning_rate=0.0005)
    assert status == 202, body
    launcher = board.launcher
    job = launcher.launched[0]
    assert body["job_id"] == job.job_id and body["status"] == "running"
    assert body["dataset"]["qa_pairs"] == 12 and body["dataset"]["train"] + body["dataset"]["validation"] == 12
    assert job.hyperparameters == {"epochs": 2, "learning_rate": 0.0005}
    rows = launcher.datasets[job.job_id]
    assert len(rows["train"]) == body["dataset"]["train"] and len(rows["validation"]) >= 2
    assert rows["train"][0]["messages"][0]["role"] == "user"
    status, got = api.call("GET", f"/api/fine-tune/{job.job_id}", claims=editor)
    assert status == 200 and got["status"] == "running" and got["stage"] == "Training"
    assert got["progress"] == 0.5 and got["metrics"]["train_loss"] == 1.5
    assert got["parameters"] == {"epochs": 2, "learning_rate": 0.0005}


def test_bad_parameters_are_422_before_any_job(api, editor, board):
    for params in ({"epochs": 0}, {"epochs": 21}, {"learning_rate": 1.0}, {"learning_rate": 1e-9},
                   {"epochs": 2.5}, {"lora_r": 0}):
        status, err = start(api, editor, **params)
        assert status == 422, (params, err)
        assert next(iter(params)) in err["error"]["message"]
    status, err = api.call("POST", "/api/fine-tune", {"parameters": {"epochz": 2}}, claims=editor)
    assert status == 422
    status, err = api.call("POST", "/api/fine-tune", {"parameters": {"epochs": "lots"}},
                           claims=editor)
    assert status == 422
    assert board.launcher.launched == [] and board.metadata.list_jobs("riverside") == []


def test_only_editors_fine_tune_or_activate(api, member, board):
    assert start(api, member, epochs=1)[0] == 403
    assert api.call("POST", "/api/models/base/activate", {}, claims=member)[0] == 403
    assert board.launcher.launched == []


def test_body_naming_another_workspace_is_403(api, editor, board):
    status, _ = api.call("POST", "/api/fine-tune", {"workspace_id": "other-club"}, claims=editor)
    assert status == 403


def test_one_running_job_per_workspace(api, editor, outsider, board):
    assert start(api, editor)[0] == 202
    status, err = start(api, editor)
    assert status == 409 and "one job" in err["error"]["message"]
    # another workspace is not blocked (it has no data, so it gets the 422 instead)
    assert start(api, outsider)[0] == 422
    job = board.launcher.launched[0]
    board.launcher.finish(job)
    assert start(api, editor)[0] == 202  # the slot is free again


def test_too_little_data_is_a_clear_422(api, editor, container):
    upload(api, editor, "tiny.csv", b"question,answer\nWhen?,Now.\nWhere?,Here.\n",
           container=container)
    status, err = start(api, editor)
    assert status == 422 and "too little data" in err["error"]["message"]
    assert "2 question/answer pairs" in err["error"]["message"]
    assert container.metadata.claim_tuning_slot("riverside", "probe") is None  # slot released


def test_completion_registers_deploys_and_activates_when_loss_beats_base(api, editor, member, board):
    job_id = start(api, editor)[1]["job_id"]
    result = board.launcher.finish(board.launcher.launched[0])
    assert result["status"] == "completed" and result["activated"] is True
    status, job = api.call("GET", f"/api/fine-tune/{job_id}", claims=member)
    assert job["status"] == "completed" and job["model_id"] and job["finished_at"]
    assert job["metrics"]["eval_loss"] == 0.8 and job["metrics"]["base_eval_loss"] == 1.2
    status, listing = api.call("GET", "/api/models", claims=member)
    assert status == 200 and listing["active_model_id"] == job["model_id"]
    (model,) = listing["models"]
    assert model["active"] is True and model["status"] == "available"
    assert model["metrics"]["eval_loss"] == 0.8 and "beat the base" in model["reason"]
    assert board.registry.registered == board.registry.deployed == [model["model_id"]]
    # chat now answers with it, and says so
    api.call("POST", "/api/notices", {"title": "Choir", "body": "Choir practice is on Monday."},
             claims=editor)
    status, answer = api.call("POST", "/api/chat", {"query": "When is choir practice?"},
                              claims=member)
    assert status == 200 and answer["model"] == model["model_id"] and answer["warning"] is None
    assert answer["model_name"] == model["name"] == "Fine-tune 1"
    assert board.chat_model.adapters_used[-1] == f"adapter-riverside-{model['model_id']}"


def test_a_loss_that_does_not_beat_base_stays_inactive_with_the_reason(api, editor, board):
    board.launcher.eval_loss, board.launcher.base_eval_loss = 1.4, 1.2
    start(api, editor)
    result = board.launcher.finish(board.launcher.launched[0])
    assert result["status"] == "completed" and result["activated"] is False
    _, listing = api.call("GET", "/api/models", claims=editor)
    assert listing["active_model_id"] is None
    (model,) = listing["models"]
    assert model["active"] is False and model["status"] == "available"
    assert "did not beat" in model["reason"] and "1.4000" in model["reason"]
    # an editor may still activate it by hand, and roll back to the base model
    status, out = api.call("POST", f"/api/models/{model['model_id']}/activate", {}, claims=editor)
    assert status == 200 and out["model_id"] == model["model_id"] and out["active"] is True
    assert board.metadata.get_active_model("riverside") == model["model_id"]
    # ... which the version now says (not "not activated"), and the registry approves it
    assert out["reason"].startswith("activated by an editor (maria), although validation loss "
                                    "1.4000 did not beat")
    assert board.registry.approved == [(model["model_id"], out["reason"])]
    status, out = api.call("POST", "/api/models/base/activate", {}, claims=editor)
    assert status == 200 and out["model_id"] == "base" and out["active"] is True
    assert out["name"] == board.chat_model.model_id
    assert api.call("GET", "/api/models", claims=editor)[1]["active_model_id"] is None


def test_a_registry_that_cannot_approve_does_not_stop_the_activation(api, editor, board):
    board.launcher.eval_loss, board.launcher.base_eval_loss = 1.4, 1.2
    start(api, editor)
    model_id = board.launcher.finish(board.launcher.launched[0])["model_id"]
    board.registry.fail_approve = RuntimeError("AccessDenied: sagemaker:UpdateModelPackage")
    status, out = api.call("POST", f"/api/models/{model_id}/activate", {}, claims=editor)
    assert status == 200 and out["active"] is True and "activated by an editor" in out["reason"]
    assert board.metadata.get_active_model("riverside") == model_id
    # activating again later neither rewrites the reason nor approves twice
    board.registry.fail_approve = None
    api.call("POST", "/api/models/base/activate", {}, claims=editor)
    status, again = api.call("POST", f"/api/models/{model_id}/activate", {}, claims=editor)
    assert again["reason"] == out["reason"] and board.registry.approved == []


def test_a_version_that_beat_base_is_not_re_approved_on_roll_back(api, editor, board):
    start(api, editor)
    model_id = board.launcher.finish(board.launcher.launched[0])["model_id"]
    api.call("POST", "/api/models/base/activate", {}, claims=editor)
    status, out = api.call("POST", f"/api/models/{model_id}/activate", {}, claims=editor)
    assert status == 200 and "beat the base" in out["reason"] and board.registry.approved == []


def test_roll_back_to_an_earlier_version(api, editor, board):
    ids = []
    for _ in range(2):
        start(api, editor)
        ids.append(board.launcher.finish(board.launcher.launched[-1])["model_id"])
    _, listing = api.call("GET", "/api/models", claims=editor)
    assert [m["model_id"] for m in listing["models"]] == ids[::-1]  # newest first
    assert listing["active_model_id"] == ids[1]
    status, out = api.call("POST", f"/api/models/{ids[0]}/activate", {}, claims=editor)
    assert status == 200 and out["active"] is True and out["model_id"] == ids[0]
    _, listing = api.call("GET", "/api/models", claims=editor)
    assert listing["active_model_id"] == ids[0]
    assert [m["active"] for m in listing["models"]] == [False, True]


def test_another_workspace_sees_none_of_it(api, editor, outsider, board):
    job_id = start(api, editor)[1]["job_id"]
    model_id = board.launcher.finish(board.launcher.launched[0])["model_id"]
    assert api.call("GET", f"/api/fine-tune/{job_id}", claims=outsider)[0] == 404
    assert api.call("GET", "/api/fine-tune", claims=outsider)[1] == {"jobs": []}
    _, listing = api.call("GET", "/api/models", claims=outsider)
    assert listing["models"] == [] and listing["active_model_id"] is None
    assert api.call("POST", f"/api/models/{model_id}/activate", {}, claims=outsider)[0] == 404
    status, _ = api.call("POST", "/api/chat", {"query": "hi", "model": model_id}, claims=outsider)
    assert status == 404  # another workspace's model is one this workspace does not have
    assert board.metadata.get_active_model("riverside") == model_id


def test_failed_training_is_recorded_and_frees_the_slot(api, editor, board):
    job_id = start(api, editor)[1]["job_id"]
    result = board.launcher.finish(board.launcher.launched[0], "Failed", "CUDA out of memory")
    assert result["status"] == "failed"
    _, job = api.call("GET", f"/api/fine-tune/{job_id}", claims=editor)
    assert job["status"] == "failed" and job["error"] == "CUDA out of memory"
    assert api.call("GET", "/api/models", claims=editor)[1]["models"] == []
    assert start(api, editor)[0] == 202


def test_a_duplicate_completion_event_changes_nothing(api, editor, board):
    start(api, editor)
    job = board.launcher.launched[0]
    event = board.launcher.event(job)
    first = board.launcher.on_event(event)
    assert first["status"] == "completed"
    assert board.launcher.on_event(event)["status"] == "duplicate"
    assert board.registry.registered == [first["model_id"]]


def test_deployment_failure_fails_the_job_and_keeps_the_base_model(api, editor, board):
    board.registry.fail_deploy = ModelUnavailable("endpoint is being updated")
    job_id = start(api, editor)[1]["job_id"]
    assert board.launcher.finish(board.launcher.launched[0])["status"] == "failed"
    _, job = api.call("GET", f"/api/fine-tune/{job_id}", claims=editor)
    assert job["status"] == "failed" and "endpoint is being updated" in job["error"]
    _, listing = api.call("GET", "/api/models", claims=editor)
    assert listing["active_model_id"] is None and listing["models"][0]["status"] == "failed"
    status, err = api.call("POST", f"/api/models/{listing['models'][0]['model_id']}/activate", {},
                           claims=editor)
    assert status == 409


def test_a_broken_adapter_falls_back_to_the_base_model_with_a_warning(api, editor, member, board):
    start(api, editor)
    model_id = board.launcher.finish(board.launcher.launched[0])["model_id"]
    board.chat_model.broken.add(f"adapter-riverside-{model_id}")
    api.call("POST", "/api/notices", {"title": "Choir", "body": "Choir practice is on Monday."},
             claims=editor)
    status, answer = api.call("POST", "/api/chat", {"query": "When is choir practice?"},
                              claims=member)
    assert status == 200 and answer["model"] == board.chat_model.model_id
    assert model_id in answer["warning"] and "base model answered" in answer["warning"]
    assert answer["model_name"] is None  # the fine-tune did not answer
    assert board.chat_model.adapters_used[-2:] == [f"adapter-riverside-{model_id}", None]
    # asking for the base model by name, or "base", skips the adapter
    for name in (board.chat_model.model_id, "base"):
        _, answer = api.call("POST", "/api/chat", {"query": "When is choir practice?",
                                                   "model": name}, claims=member)
        assert answer["model"] == board.chat_model.model_id and answer["warning"] is None


def test_launch_failure_is_503_and_frees_the_slot(api, editor, board):
    board.launcher.fail_launch = RuntimeError("boom")
    status, err = start(api, editor)
    assert status == 503 and "boom" not in err["error"]["message"]
    (job,) = board.metadata.list_jobs("riverside")
    assert job.status == JobStatus.FAILED
    board.launcher.fail_launch = None
    assert start(api, editor)[0] == 202


def test_stale_slot_of_a_finished_job_is_taken_over(api, editor, board):
    board.metadata.claim_tuning_slot("riverside", "ghost")  # a crash left it behind
    assert start(api, editor)[0] == 202


def test_jobs_list_and_openapi(api, editor, board):
    start(api, editor)
    _, listing = api.call("GET", "/api/fine-tune", claims=editor)
    assert len(listing["jobs"]) == 1
    _, spec = api.call("GET", "/api/openapi.json")
    for path in ("/api/fine-tune", "/api/fine-tune/{job_id}", "/api/models",
                 "/api/models/{model_id}/activate"):
        assert path in spec["paths"], path


def test_activate_takes_an_empty_body_or_none_and_404s_unknown_models(api, editor, board):
    assert api.call("POST", "/api/models/base/activate", claims=editor)[0] == 200
    assert api.call("POST", "/api/models/base/activate", {}, claims=editor)[0] == 200
    assert api.call("POST", "/api/models/nope/activate", {}, claims=editor)[0] == 404
    assert api.call("POST", "/api/models/base/activate", {"force": True}, claims=editor)[0] == 422
    assert api.call("GET", "/api/fine-tune/nope", claims=editor)[0] == 404
    assert api.call("GET", "/api/models")[0] == 401
