"""The SageMaker bring-your-own-container model server: a base model and its LoRA adapters.

SageMaker runs the image as ``serve`` and talks to port 8080: ``GET /ping`` and
``POST /invocations`` with the TGI payload (``{"inputs", "parameters"}`` ->
``{"generated_text", "details"}``, or ``data:`` lines when the payload says
``"stream": true``). The HTTP handling and the generation are the model server package's
(``noticebot.model_server``: ``http_server.make_server`` over ``peft_backend.
PeftModelEndpoint``), which the local stack runs too, so both speak byte for byte the same
contract; this module only maps SageMaker's layout onto them.

Model data (``/opt/ml/model``, unpacked from the model's S3 ``model.tar.gz``):

    base/                    the base model in HF format (or config.json etc. at the top)
    adapters/<name>/         PEFT LoRA adapters (adapter_config.json + safetensors), any number
    adapter_config.json ...  or one adapter at the top, served as "default"

An adapter is chosen per request by ``X-Amzn-SageMaker-Inference-Component``,
``X-Amzn-SageMaker-Target-Model`` (a trailing ``.tar.gz`` is dropped) or the payload's
``adapter`` field; none: the base model. Adapter folders that appear later (an S3 sync, a
volume) are picked up on the first request that names them. The base model and the
adapters present at start are loaded before the server answers /ping.

Environment: NOTICEBOT_MODEL_ROOT (/opt/ml/model), NOTICEBOT_BASE_MODEL_DIR,
NOTICEBOT_ADAPTERS_DIR (<root>/adapters), SAGEMAKER_BIND_TO_PORT (8080),
NOTICEBOT_MAX_CONTEXT (4096).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from noticebot.domain.errors import NoticebotError
from noticebot.model_server.http_server import make_server
from noticebot.model_server.peft_backend import PeftModelEndpoint

DEFAULT_ADAPTER = "default"


def base_model_dir(root: Path) -> Path:
    env = os.environ.get("NOTICEBOT_BASE_MODEL_DIR")
    for candidate in ([Path(env)] if env else [root / "base", root]):
        if (candidate / "config.json").is_file():
            return candidate
    raise SystemExit(f"no base model (config.json) in {env or f'{root}/base or {root}'}")


def discover_adapters(root: Path, adapters_dir: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    if (root / "adapter_config.json").is_file():
        found[DEFAULT_ADAPTER] = root
    if adapters_dir.is_dir():
        for sub in sorted(adapters_dir.iterdir()):
            if (sub / "adapter_config.json").is_file():
                found[sub.name] = sub
    return found


class ContainerEndpoint(PeftModelEndpoint):
    """PeftModelEndpoint that finds adapters in the model folder, also after start."""

    def __init__(self, root: Path, adapters_dir: Path, **kwargs):
        super().__init__(base_model_dir(root), **kwargs)
        self.root = root
        self.adapters_dir = adapters_dir

    def refresh(self) -> list[str]:
        added = []
        for name, path in discover_adapters(self.root, self.adapters_dir).items():
            if name not in self.adapters():
                try:
                    self.register_adapter(name, path)
                    added.append(name)
                except NoticebotError as exc:
                    print(f"skipping adapter {name}: {exc.message}", file=sys.stderr, flush=True)
        return added

    def _target(self, target: str | None) -> str | None:
        if target:
            target = target.strip("/").removesuffix(".tar.gz")
            if target not in self.adapters():
                self.refresh()
        return target or None

    def invoke(self, body: bytes, target: str | None = None) -> bytes:
        return super().invoke(body, self._target(target))

    def invoke_stream(self, body: bytes, target: str | None = None) -> Iterator[bytes]:
        return super().invoke_stream(body, self._target(target))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", default="serve", choices=["serve"])
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=int(os.environ.get("SAGEMAKER_BIND_TO_PORT", "8080")))
    parser.add_argument("--model-root", default=os.environ.get("NOTICEBOT_MODEL_ROOT", "/opt/ml/model"))
    args = parser.parse_args(argv)
    root = Path(args.model_root)
    adapters_dir = Path(os.environ.get("NOTICEBOT_ADAPTERS_DIR") or root / "adapters")
    endpoint = ContainerEndpoint(root, adapters_dir, n_ctx=int(os.environ.get("NOTICEBOT_MAX_CONTEXT", "4096")))
    names = endpoint.refresh()
    endpoint.load_all()  # before /ping answers: SageMaker waits for it, requests do not
    print(f"serving {endpoint.base_model_dir} with adapters {names or 'none'} on {args.host}:{args.port}",
          flush=True)
    server = make_server(endpoint, args.host, args.port)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
