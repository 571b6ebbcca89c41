"""The composition root: builds the adapters for a mode and hands them to services.

Nothing here runs at import time. Tests pass fakes for any port.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from noticebot.config import Settings
from noticebot.ingestion.engines import Engines
from noticebot.ports import BlobStore, ChatModel, Embedder, MetadataStore, VectorIndex
from noticebot.services.chat import ChatService
from noticebot.services.documents import DocumentService
from noticebot.services.finetune import FineTuneService
from noticebot.services.ingest import IngestService
from noticebot.services.models import ModelService
from noticebot.services.notices import NoticeService
from noticebot.services.search import SearchService


INGEST_QUEUE = "noticebot-ingest"
# AWS's guidance for SQS event sources, which cdk/constructs/ingestion.py follows too: a
# visibility timeout of at least 6x the function timeout.
VISIBILITY_FACTOR = 6


@dataclass
class Container:
    settings: Settings
    metadata: MetadataStore
    blobs: BlobStore
    index: VectorIndex
    embedder: Embedder
    chat_model: ChatModel
    documents: DocumentService
    ingest: IngestService
    notices: NoticeService
    search: SearchService
    chat: ChatService
    finetune: FineTuneService | None = None
    models: ModelService | None = None
    launcher: Any = None  # TrainingLauncher (SageMaker / subprocess)
    registry: Any = None  # ModelRegistry (SageMaker model packages + components / local)
    # local mode: the S3 -> SQS -> Lambda stand-in, a QueueWorker (drain / start / stop) over
    # the durable SqliteQueue in <data>/queue.sqlite3 (``queue.messages``)
    queue: Any = None
    auth: Any = None  # local mode: the JWT authority the dev server verifies with


def _services(settings: Settings, metadata, blobs, index, embedder, chat_model,
              engines: Engines | None = None, transcription_jobs=None, launcher=None,
              registry=None) -> dict:
    """``engines``: OCR and speech to text for the ingest service (None: images and audio
    fail as unreadable); ``transcription_jobs``: an asynchronous speech-to-text service
    (Amazon Transcribe) that audio goes to instead of ``engines.transcriber``;
    ``launcher`` / ``registry``: fine-tuning (None: the routes answer 503)."""
    search = SearchService(index, embedder, settings.max_query_chars)
    models = ModelService(metadata, registry, launcher, base_model=settings.base_model)
    return dict(
        launcher=launcher, registry=registry, models=models,
        finetune=FineTuneService(metadata, blobs, index, launcher, fixed={
            "model_name_or_path": settings.base_model,
            "chat_template": settings.training_chat_template}),
        documents=DocumentService(metadata, blobs, index, settings.max_upload_bytes,
                                  budget=settings.ingest_budget),
        ingest=IngestService(metadata, blobs, index, embedder, settings.chunk_max_tokens,
                             settings.chunk_overlap_tokens, engines=engines,
                             transcription_jobs=transcription_jobs,
                             budget=settings.ingest_budget),
        notices=NoticeService(metadata, index, embedder, settings.chunk_max_tokens,
                              settings.chunk_overlap_tokens),
        search=search,
        chat=ChatService(search, chat_model, metadata, top_k=settings.chat_top_k,
                         max_new_tokens=settings.chat_max_new_tokens,
                         history_turns=settings.history_turns, models=models),
    )


def bootstrap(settings: Settings | None = None, *, embedder: Embedder | None = None,
              chat_model: ChatModel | None = None, index: VectorIndex | None = None,
              metadata: MetadataStore | None = None, start_worker: bool = False,
              engines: Engines | None = None, launcher=None, registry=None) -> Container:
    """``engines``: OCR / speech to text for ingestion; local mode defaults to Tesseract and
    Whisper tiny.en (built here, loaded on the first image or recording). ``launcher`` /
    ``registry``: fine-tuning; local mode defaults to train.py in a subprocess and adapters
    on disk registered with the local model server."""
    settings = settings or Settings.from_env()
    if settings.mode == "aws":
        from noticebot.bootstrap_aws import bootstrap_aws  # boto3 only in aws mode

        return bootstrap_aws(settings, embedder=embedder, chat_model=chat_model, index=index,
                             metadata=metadata, engines=engines, launcher=launcher,
                             registry=registry)
    if settings.mode != "local":
        raise ValueError(f"unsupported mode {settings.mode!r}: expected 'local' or 'aws'")
    return _bootstrap_local(settings, embedder, chat_model, index, metadata, start_worker,
                            engines, launcher, registry)


def _bootstrap_local(settings, embedder, chat_model, index, metadata, start_worker,
                     engines=None, launcher=None, registry=None) -> Container:
    from noticebot.adapters.local.events import s3_object_created
    from noticebot.adapters.local.folder_blob_store import FolderBlobStore
    from noticebot.adapters.local.jwt_auth import LocalJwtAuthority
    from noticebot.adapters.local.queue_worker import QueueWorker
    from noticebot.adapters.local.sqlite_metadata_store import SqliteMetadataStore
    from noticebot.adapters.local.sqlite_queue import SqliteQueue

    data = settings.data_dir
    data.mkdir(parents=True, exist_ok=True)
    # The ingest queue as CDK configures SQS: visibility 6x one attempt, the same max receives.
    messages = SqliteQueue(data / "queue.sqlite3", name=INGEST_QUEUE,
                           visibility_timeout_s=VISIBILITY_FACTOR * settings.ingest_timeout_s,
                           max_receives=settings.ingest_max_receives)
    queue = QueueWorker(messages)
    # What the bucket notification does in AWS: every stored object's event goes to the queue.
    blobs = FolderBlobStore(data / "blobs", on_object_created=lambda key, size: queue.send(
        json.dumps(s3_object_created(key, size))))
    metadata = metadata or SqliteMetadataStore(data / "metadata.sqlite3")
    if index is None:
        from noticebot.adapters.local.hybrid_index import EmbeddedHybridIndex

        index = EmbeddedHybridIndex(data / "index")
    if embedder is None:
        from noticebot.adapters.local.onnx_embedder import OnnxEmbedder

        embedder = OnnxEmbedder()
    if chat_model is None:
        from noticebot.adapters.endpoint_chat_model import EndpointChatModel
        from noticebot.adapters.local.model_server import LocalModelEndpoint
        from noticebot.llm.content_handlers import ChatMLContentHandler

        endpoint = LocalModelEndpoint()
        chat_model = EndpointChatModel(endpoint, ChatMLContentHandler(), endpoint.model_id)
    if engines is None:
        from noticebot.ingestion.engines import local_engines

        engines = local_engines()  # cheap: tesseract / Whisper load on first use
    settings = _local_base_model(settings, chat_model)
    launcher, registry = _local_tuning(settings, blobs, chat_model, launcher, registry)
    container = Container(
        settings=settings, metadata=metadata, blobs=blobs, index=index, embedder=embedder,
        chat_model=chat_model, queue=queue, auth=LocalJwtAuthority(data / "jwt-secret"),
        **_services(settings, metadata, blobs, index, embedder, chat_model, engines,
                    launcher=launcher, registry=registry),
    )
    # train.py's exit is the completion event: the same handler the deploy Lambda runs.
    from noticebot.handlers import deploy as deploy_handler

    if getattr(launcher, "on_event", False) is None:
        launcher.on_event = lambda event: deploy_handler.handle(event, container)
    # The worker calls the same Lambda handler AWS would, with SQS batch events.
    from noticebot.handlers import ingest as ingest_handler

    queue.consumer = lambda event: ingest_handler.handler(event, None)
    queue.housekeeping = lambda: _sweep_stuck_documents(container, messages)
    if start_worker:
        queue.start()
    return container


def _sweep_stuck_documents(container: Container, messages) -> None:
    """Settles documents stranded in queued / processing with no message left for them (the
    process died between writing the row and storing the file, or the queue gave up on it):
    the local worker's housekeeping. Only the local store reads across workspaces."""
    from noticebot.handlers.ingest import object_keys

    unsettled = getattr(container.metadata, "unsettled_documents", None)
    if unsettled is None:
        return
    keys: set[str] = set()
    for body in messages.pending_bodies():
        try:
            keys.update(object_keys(json.loads(body)))
        except (ValueError, TypeError, KeyError, AttributeError):
            continue  # not an S3 event: concerns no document
    container.documents.stuck.sweep(unsettled(), keys)


def _local_tuning(settings: Settings, blobs, chat_model, launcher, registry):
    """train.py in a subprocess; adapters in <data>/models, served by the local model server
    (the chat model's endpoint), re-registered with it at start-up."""
    if launcher is None:
        from noticebot.adapters.local.subprocess_launcher import SubprocessLauncher

        launcher = SubprocessLauncher(settings.data_dir / "training", blobs,
                                      script=settings.train_script or None,
                                      job_prefix=settings.training_job_prefix)
    if registry is None:
        from noticebot.adapters.local.model_registry import LocalModelRegistry

        registry = LocalModelRegistry(settings.data_dir / "models",
                                      server=getattr(chat_model, "endpoint", chat_model))
        registry.restore()
    return launcher, registry


def _local_base_model(settings: Settings, chat_model) -> Settings:
    """Locally the fine-tune starts from the model the local server runs (SmolLM2 GGUF, whose
    chat template is ChatML), unless NOTICEBOT_BASE_MODEL names another."""
    if settings.base_model:
        return settings
    path = getattr(getattr(chat_model, "endpoint", None), "model_path", None)
    if path is None or not Path(path).is_file():
        return settings
    return replace(settings, base_model=str(path),
                   training_chat_template=settings.training_chat_template or "chatml")
