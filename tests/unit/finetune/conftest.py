import pytest

from apiclient import ApiClient
from fakes import FakeEmbedder, FakeVectorIndex
from noticebot.config import Settings
from noticebot.entrypoints.local_stack import local_stack
from noticebot.handlers.api.app import handler_for
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
    c = local_stack(settings, embedder=FakeEmbedder(), chat_model=chat_model,
                    index=FakeVectorIndex(), launcher=launcher, registry=registry)
    launcher.blobs = c.blobs
    return c


@pytest.fixture
def api(container):
    return ApiClient(handler_for(container))




@pytest.fixture
def board(api, editor, container):
    """A workspace with a Q&A table uploaded and indexed."""
    upload(api, editor, "faq.csv", qa_csv(), container=container)
    return container
