"""The local model registry: a folder per version, a record of what is deployed, approvals."""

import json

import pytest

from noticebot.adapters.local.model_registry import LocalModelRegistry
from noticebot.domain.errors import ModelUnavailable
from noticebot.domain.tuning import ModelVersion


class Server:
    def __init__(self):
        self.adapters = {}

    def register_adapter(self, name, folder):
        self.adapters[name] = folder

    def unregister_adapter(self, name):
        return self.adapters.pop(name, None) is not None


def trained_adapter(tmp_path):
    out = tmp_path / "job-output"
    out.mkdir()
    (out / "adapter_config.json").write_text('{"peft_type": "LORA", "r": 8}')
    (out / "adapter_model.safetensors").write_bytes(b"weights")
    return out


def version(tmp_path, **kw):
    return ModelVersion(workspace_id="riverside", model_id="ft-0f3c2d9a", job_id="0f3c2d9a",
                        name="Fine-tune 1", base_model="base",
                        artifact_uri=f"file://{trained_adapter(tmp_path)}", **kw)


def test_register_deploy_restore_and_delete(tmp_path):
    server = Server()
    registry = LocalModelRegistry(tmp_path / "models", server)
    v = version(tmp_path)
    folder = registry.register(v)
    assert (tmp_path / "models" / "riverside" / "ft-0f3c2d9a" / "adapter_model.safetensors").is_file()
    assert json.loads((tmp_path / "models" / "riverside" / "ft-0f3c2d9a" / "version.json")
                      .read_text())["model_id"] == "ft-0f3c2d9a"
    name = registry.deploy(v)
    assert server.adapters == {name: folder}
    restarted = Server()
    assert LocalModelRegistry(tmp_path / "models", restarted).restore() == 1
    assert restarted.adapters == {name: folder}
    registry.delete(v)
    assert server.adapters == {} and LocalModelRegistry(tmp_path / "models", Server()).restore() == 0


def test_approval_is_recorded_with_the_version(tmp_path):
    registry = LocalModelRegistry(tmp_path / "models", Server())
    v = version(tmp_path)
    registry.register(v)
    registry.approve(v, "activated by an editor (maria), although ...")
    record = json.loads((tmp_path / "models" / "riverside" / "ft-0f3c2d9a" / "version.json").read_text())
    assert record["approval"] == "Approved" and record["model_id"] == "ft-0f3c2d9a"
    assert record["approval_note"].startswith("activated by an editor (maria)")


def test_a_folder_without_an_adapter_is_refused(tmp_path):
    registry = LocalModelRegistry(tmp_path / "models", Server())
    empty = tmp_path / "empty"
    empty.mkdir()
    v = ModelVersion(workspace_id="riverside", model_id="ft-1", job_id="1", name="n",
                     base_model="b", artifact_uri=f"file://{empty}")
    with pytest.raises(ModelUnavailable, match="adapter_config.json"):
        registry.register(v)
    with pytest.raises(ModelUnavailable, match="no adapter files"):
        registry.deploy(v)
