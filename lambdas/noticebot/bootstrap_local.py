"""The composition root's local mode: a folder, SQLite, the embedded index, the local models,
and local password accounts as the identity provider (``<data>/accounts.sqlite3``; the JWT
authority signs with ``<data>/jwt-secret`` and keeps signed-out token ids in the same file).
Pushes are recorded in ``<data>/push-outbox.jsonl`` and posted to ``NOTICEBOT_PUSH_URL`` when
it is set; notice events go through the ``noticebot-notify`` queue in ``queue.sqlite3``,
whose worker starts on the first event.

Builds the adapters and the services over them; nothing runs at import, and tests pass fakes
for any port. What flows between the parts at run time (the queue's messages to the ingest
handler, train.py's exit to the deploy handler) is connected by ``entrypoints.local_stack``,
so that this module never reaches up into the handlers.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from noticebot.config import Settings
from noticebot.container import Container, wire_services
from noticebot.ingestion.engines import Engines
from noticebot.ports import ChatModel, Embedder, MetadataStore, Reranker, VectorIndex

INGEST_QUEUE = "noticebot-ingest"
# AWS's guidance for SQS event sources, which cdk/constructs/ingestion.py follows too: a
# visibility timeout of at least 6x the function timeout.
VISIBILITY_FACTOR = 6
# Notice events: deliveries before one is dead-lettered, and how long one push attempt may
# hold its event (the HTTP timeout, a few requests of 100 messages).
NOTIFY_MAX_RECEIVES = 5
NOTIFY_VISIBILITY_S = 120


def local_engines() -> Engines:
    """Tesseract and Whisper tiny.en. Cheap to call: nothing is imported or loaded until a
    document needs it, and a missing install surfaces as a failed document that says what to
    install (never as an import error here)."""
    from noticebot.adapters.local.tesseract_ocr import TesseractOcr
    from noticebot.adapters.local.whisper_transcriber import WhisperTranscriber

    return Engines(ocr=TesseractOcr(), transcriber=WhisperTranscriber())


def bootstrap_local(settings: Settings | None = None, *, embedder: Embedder | None = None,
                    chat_model: ChatModel | None = None, index: VectorIndex | None = None,
                    metadata: MetadataStore | None = None, engines: Engines | None = None,
                    launcher=None, registry=None, reranker: Reranker | None = None,
                    directory=None, notifier=None, notice_events=None) -> Container:
    """``reranker``: default the ms-marco cross-encoder (loaded on the first search) when the
    embedder is the local model too; a caller that passes its own embedder (a fake, a proxy)
    gets no reranker unless it passes one, so a test's ranking never depends on a model it
    did not ask for. ``engines``: OCR / speech to text for ingestion (default Tesseract and
    Whisper tiny.en, loaded on the first image or recording). ``launcher`` / ``registry``: fine-tuning (default
    train.py in a subprocess, adapters on disk registered with the local model server).
    ``directory``: the identity provider's accounts (default the local password accounts).
    ``notifier`` / ``notice_events``: the push service (default the outbox, posting to
    ``settings.push_url`` when set) and where notice events go (default the notify queue,
    delivered to the container's notification service).

    The queue worker it returns has no consumer yet and is not started."""
    from noticebot.adapters.local.events import s3_object_created
    from noticebot.adapters.local.folder_blob_store import FolderBlobStore
    from noticebot.adapters.local.jwt_auth import LocalJwtAuthority, TokenRevocations
    from noticebot.adapters.local.local_accounts import LocalAccounts
    from noticebot.adapters.local.queue_worker import QueueWorker
    from noticebot.adapters.local.sqlite_metadata_store import SqliteMetadataStore
    from noticebot.adapters.local.sqlite_queue import SqliteQueue

    settings = settings or Settings.from_env()
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
        from noticebot.adapters.local.onnx_cross_encoder import OnnxCrossEncoder
        from noticebot.adapters.local.onnx_embedder import OnnxEmbedder

        embedder = OnnxEmbedder()
        reranker = reranker or OnnxCrossEncoder()
    if chat_model is None:
        from noticebot.adapters.endpoint_chat_model import EndpointChatModel
        from noticebot.model_server.llama_cpp_backend import LocalModelEndpoint
        from noticebot.llm.content_handlers import ChatMLContentHandler

        endpoint = LocalModelEndpoint()
        chat_model = EndpointChatModel(endpoint, ChatMLContentHandler(), endpoint.model_id)
    if engines is None:
        engines = local_engines()  # cheap: tesseract / Whisper load on first use
    settings = _local_base_model(settings, chat_model)
    launcher, registry = _local_tuning(settings, blobs, chat_model, launcher, registry)
    auth = LocalJwtAuthority(data / "jwt-secret",
                             revocations=TokenRevocations(data / "accounts.sqlite3"))
    if directory is None:
        directory = LocalAccounts(data / "accounts.sqlite3", auth,
                                  session_ttl_s=settings.session_ttl_s)
    notifier = notifier or _local_notifier(settings)
    if notice_events is None:
        from noticebot.adapters.local.notifier_queue import QueuedNoticeEvents

        notice_events = QueuedNoticeEvents.in_folder(
            data / "queue.sqlite3", visibility_timeout_s=NOTIFY_VISIBILITY_S,
            max_receives=NOTIFY_MAX_RECEIVES)
    container = Container(
        settings=settings, metadata=metadata, blobs=blobs, index=index, embedder=embedder,
        chat_model=chat_model, queue=queue, auth=auth,
        **wire_services(settings, metadata, blobs, index, embedder, chat_model, engines,
                        launcher=launcher, registry=registry, reranker=reranker,
                        directory=directory, notifier=notifier, notice_events=notice_events),
    )
    return container


def _local_notifier(settings: Settings):
    from noticebot.adapters.local.outbox_notifier import OutboxNotifier

    forward = None
    if settings.push_url:
        from noticebot.adapters.local.http_push_notifier import HttpPushNotifier

        forward = HttpPushNotifier(settings.push_url)
    return OutboxNotifier(settings.data_dir / "push-outbox.jsonl", forward=forward)


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
