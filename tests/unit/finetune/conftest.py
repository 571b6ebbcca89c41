import pytest

from apiclient import ApiClient
from fakes import FakeEmbedder, FakeVectorIndex
from noticebot.bootstrap import bootstrap
from noticebot.config import Settings
from noticebot.handlers.api.app import handler
from noticebot.handlers.runtime import use_container
from tuning_fakes import AdapterChatModel, FakeLauncher, RecordingRegistry, qa_csv, upload

@pytest.fixture
def chat_model():
    return AdapterChatModel()


@pytest.fixture
def container(tmp_path, chat_model):
    settings = Settings(data_dir=tmp_path / "data", max_upload_bytes=200_000)
    registry = RecordingRegistry(server=chat_model)
    # The launcher needs the blob store the container builds: give it a stand-in first.
    launcher = FakeLauncher(None, tmp_path / "training")
    c = bootstrap(settings, embedder=FakeEmbedder(), chat_model=chat_model,
                  index=FakeVectorIndex(), launcher=launcher, registry=registry)
    launcher.blobs = c.blobs
    use_container(c)
    yield c
    use_container(None)


@pytest.fixture
def api(container):
    return ApiClient(handler)




@pytest.fixture
def board(api, editor, container):
    """A workspace with a Q&A table uploaded and indexed."""
    upload(api, editor, "faq.csv", qa_csv(), container=container)
    return container
