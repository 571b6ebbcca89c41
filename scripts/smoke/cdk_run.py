"""The CDK CLI for one smoke run: deploy and destroy one stage with its model pointed at the
staged smoke weights, without touching the repository's cdk.json.

The app reads its whole configuration from the ``noticebot`` context object, and the CLI's
``-c key=value`` can only set strings, so the run writes a cdk.json of its own in a temporary
folder: the repository's context with the stage's ``model.model_id`` and
``model.weights_s3_uri`` replaced, and the repository's app command run from the repository
(``cd ROOT && ...``). The CLI is the pinned one (node_modules/.bin/cdk), run in that folder.
The override is checked with cdk/config.py before anything runs, so a bad value fails here
rather than in a synth minutes later.
"""

from __future__ import annotations

import copy
import json
import os
import shlex
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

Runner = Callable[[Sequence[str], Path, dict], int]


def run_command(command: Sequence[str], cwd: Path, env: dict) -> int:
    """Runs a command with its output on this terminal; returns its exit status."""
    return subprocess.run(list(command), cwd=cwd, env=env, check=False).returncode


def smoke_context(context: dict, stage: str, *, model_id: str, weights_s3_uri: str,
                  region: str | None = None) -> dict:
    """The repository's ``noticebot`` context with the stage's model replaced (and region)."""
    from cdk.config import config_from_dict

    out = copy.deepcopy(context)
    stage_raw = out["stages"].get(stage)
    if stage_raw is None:
        raise ValueError(f"unknown stage {stage!r}; cdk.json has {sorted(out['stages'])}")
    stage_raw["model"] = {**stage_raw.get("model", {}), "model_id": model_id,
                          "weights_s3_uri": weights_s3_uri}
    if region:
        stage_raw["region"] = region
    config_from_dict(out)  # raises ConfigError naming the key, as the synth would
    return out


class CdkRun:
    def __init__(self, root: Path, workdir: Path, stage: str, context: dict, *,
                 profile: str | None = None, runner: Runner = run_command):
        self.root, self.workdir, self.stage = root, workdir, stage
        self.profile, self.runner = profile, runner
        self.project = context.get("project", "noticebot")
        repo = json.loads((root / "cdk.json").read_text())
        self.settings = {
            "app": f"cd {shlex.quote(str(root))} && {repo['app']}",
            "output": str(root / "cdk.out" / f"smoke-{stage}"),
            "context": {**repo["context"], "noticebot": context},
        }
        self.outputs_file = workdir / "outputs.json"

    @property
    def stacks(self) -> str:
        return f"{self.project}-{self.stage}/*"

    @property
    def stack_name(self) -> str:
        return f"{self.project}-{self.stage}-app"

    def _command(self, verb: str, *options: str) -> list[str]:
        return [str(self.root / "node_modules" / ".bin" / "cdk"), verb, "--no-notices",
                "-c", f"stage={self.stage}", *options,
                *(["--profile", self.profile] if self.profile else []), self.stacks]

    def deploy_command(self) -> list[str]:
        return self._command("deploy", "--require-approval", "never",
                             "--outputs-file", str(self.outputs_file))

    def destroy_command(self) -> list[str]:
        return self._command("destroy", "--force")

    def environment(self) -> dict:
        return {**os.environ, "CDK_DISABLE_CLI_TELEMETRY": "true",
                "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}

    def write(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "cdk.json").write_text(json.dumps(self.settings, indent=2))

    def deploy(self) -> dict:
        """Deploys; returns the stack's outputs (ApiUrl, UserPoolId, ...)."""
        self.write()
        status = self.runner(self.deploy_command(), self.workdir, self.environment())
        if status != 0:
            raise RuntimeError(f"cdk deploy exited {status}")
        outputs = json.loads(self.outputs_file.read_text())
        if self.stack_name not in outputs:
            raise RuntimeError(f"no outputs of {self.stack_name} in {self.outputs_file}: "
                               f"{sorted(outputs)}")
        return outputs[self.stack_name]

    def destroy(self) -> int:
        self.write()
        return self.runner(self.destroy_command(), self.workdir, self.environment())
