import pytest

from apiclient import ApiClient
from fakes import FakeChatModel, FakeEmbedder, FakeVectorIndex
from noticebot.config import Settings
from noticebot.entrypoints.local_stack import local_stack
from noticebot.handlers.api.app import handler_for


@pytest.fixture
def container(tmp_path):
    return local_stack(Settings(data_dir=tmp_path / "data", max_upload_bytes=200_000),
                       embedder=FakeEmbedder(), chat_model=FakeChatModel(),
                       index=FakeVectorIndex())


@pytest.fixture
def api(container):
    return ApiClient(handler_for(container))
