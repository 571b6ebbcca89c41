import pytest

from apiclient import ApiClient
from fakes import FakeChatModel, FakeEmbedder, FakeVectorIndex
from noticebot.bootstrap import bootstrap
from noticebot.config import Settings
from noticebot.handlers.api.app import handler
from noticebot.handlers.runtime import use_container


@pytest.fixture
def container(tmp_path):
    c = bootstrap(Settings(data_dir=tmp_path / "data", max_upload_bytes=200_000),
                  embedder=FakeEmbedder(), chat_model=FakeChatModel(), index=FakeVectorIndex())
    use_container(c)
    yield c
    use_container(None)


@pytest.fixture
def api(container):
    return ApiClient(handler)
