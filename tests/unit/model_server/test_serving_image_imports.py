"""The SageMaker serving image installs noticebot with --no-deps and only the model stack
(sagemaker/serving/Dockerfile): its server must import nothing from the Lambda side."""

import subprocess
import sys
from pathlib import Path

SERVER = Path(__file__).resolve().parents[3] / "sagemaker" / "serving" / "server.py"
# The Lambda asset's own adapters and dependencies, none of which the image installs.
REFUSED = ("noticebot.adapters", "noticebot.handlers", "noticebot.services", "aws_lambda_powertools",
           "pydantic", "boto3", "numpy", "onnxruntime", "llama_cpp", "torch", "transformers")

CODE = f"""
import importlib.abc, importlib.util, sys
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if any(name == r or name.startswith(r + ".") for r in {REFUSED!r}):
            raise ImportError("the serving image has no " + name)
sys.meta_path.insert(0, Refuse())
spec = importlib.util.spec_from_file_location("serving_server", {str(SERVER)!r})
module = importlib.util.module_from_spec(spec)
sys.modules["serving_server"] = module
spec.loader.exec_module(module)
print(module.ContainerEndpoint.__mro__[1].__module__)
"""


def test_the_serving_server_imports_only_the_model_server_and_the_contract():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "noticebot.model_server.peft_backend"
