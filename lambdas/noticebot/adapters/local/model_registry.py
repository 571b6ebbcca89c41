"""ModelRegistry on the local disk and the local model server.

``register`` copies the adapter train.py wrote (``adapter_config.json`` + safetensors +
``metrics.json``) to ``<data>/models/{ws}/{model_id}/`` with a ``version.json``; ``deploy``
registers that folder with the local model server by name
(``LocalModelEndpoint.register_adapter(name, adapter_dir)``), the local counterpart of an
adapter inference component. ``adapters.json`` remembers what was deployed, so ``restore``
registers it again when the server restarts.

A server without ``register_adapter`` (an older build, a test fake) still gets the folder and
the record: chat then finds the adapter missing and falls back to the base model, saying so.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import threading
from pathlib import Path

from noticebot.domain.errors import ModelUnavailable
from noticebot.domain.tuning import ModelVersion
from noticebot.ports.model_registry import ModelRegistry

logger = logging.getLogger(__name__)

ADAPTER_FILES = ("adapter_config.json",)


class LocalModelRegistry(ModelRegistry):
    def __init__(self, root: Path, server=None):
        """``server``: the local model server (anything with ``register_adapter``)."""
        self.root = Path(root)
        self.server = server
        self._lock = threading.Lock()

    @property
    def _index(self) -> Path:
        return self.root / "adapters.json"

    def _read(self) -> dict[str, str]:
        try:
            return json.loads(self._index.read_text())
        except (OSError, ValueError):
            return {}

    def _write(self, adapters: dict[str, str]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self._index.with_suffix(".tmp")
        tmp.write_text(json.dumps(adapters, indent=1, sort_keys=True))
        tmp.replace(self._index)

    def folder(self, version: ModelVersion) -> Path:
        return self.root / version.workspace_id / version.model_id

    # ------------------------------------------------------------------ port
    def adapter_name(self, version: ModelVersion) -> str:
        """``{model_id}-{hash of the workspace}``: an inference-component-style name (1-63
        letters, digits, ., _, -) whatever characters the workspace id has."""
        digest = hashlib.sha256(version.workspace_id.encode()).hexdigest()[:8]
        return f"{version.model_id}-{digest}"

    def register(self, version: ModelVersion) -> str:
        source = Path(version.artifact_uri.removeprefix("file://"))
        if not (source / ADAPTER_FILES[0]).is_file():
            raise ModelUnavailable(f"no adapter in {source} (adapter_config.json missing)")
        dest = self.folder(version)
        if source.resolve() != dest.resolve():
            shutil.copytree(source, dest, dirs_exist_ok=True)
        (dest / "version.json").write_text(json.dumps(version.to_dict(), indent=1))
        return str(dest)

    def deploy(self, version: ModelVersion) -> str:
        dest = self.folder(version)
        if not (dest / ADAPTER_FILES[0]).is_file():
            raise ModelUnavailable(f"model {version.model_id} has no adapter files in {dest}")
        name = self.adapter_name(version)
        self._register_with_server(name, dest)
        with self._lock:
            adapters = self._read()
            adapters[name] = str(dest)
            self._write(adapters)
        return name

    def approve(self, version: ModelVersion, note: str) -> None:
        """Recorded in the version's ``version.json`` (the local registry record)."""
        record = self.folder(version) / "version.json"
        try:
            data = json.loads(record.read_text())
        except (OSError, ValueError):
            data = version.to_dict()
        data.update(approval="Approved", approval_note=note)
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps(data, indent=1))

    def delete(self, version: ModelVersion) -> None:
        name = self.adapter_name(version)
        unregister = getattr(self.server, "unregister_adapter", None)
        if callable(unregister):
            unregister(name)
        with self._lock:
            adapters = self._read()
            if adapters.pop(name, None) is not None:
                self._write(adapters)

    # ------------------------------------------------------------- restarts
    def restore(self) -> int:
        """Registers every deployed adapter with the server again; returns how many."""
        count = 0
        for name, folder in self._read().items():
            if Path(folder, ADAPTER_FILES[0]).is_file():
                try:
                    self._register_with_server(name, Path(folder))
                    count += 1
                except Exception:  # one broken adapter must not stop the server
                    logger.warning("could not restore adapter %s", name, exc_info=True)
        return count

    def _register_with_server(self, name: str, folder: Path) -> None:
        register = getattr(self.server, "register_adapter", None)
        if callable(register):
            register(name, str(folder))
        else:
            logger.warning("the local model server cannot load adapters yet; %s is recorded "
                           "but chat will use the base model", name)
