"""The container: the ports one mode's composition root built, and the services over them.

``bootstrap_local`` and ``bootstrap_aws`` each build the adapters for their mode and hand them
to ``wire_services``, so both modes run the very same services. Handlers receive a container
as an argument; nothing here is global.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from noticebot.config import Settings
from noticebot.ingestion.engines import Engines
from noticebot.ports import BlobStore, ChatModel, Embedder, MetadataStore, Reranker, VectorIndex
from noticebot.services.chat import ChatService
from noticebot.services.documents import DocumentService
from noticebot.services.finetune import FineTuneService
from noticebot.services.ingest import IngestService
from noticebot.services.models import ModelService
from noticebot.services.notices import NoticeService
from noticebot.services.search import SearchService


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


def wire_services(settings: Settings, metadata, blobs, index, embedder, chat_model,
                  engines: Engines | None = None, transcription_jobs=None, launcher=None,
                  registry=None, reranker: Reranker | None = None) -> dict:
    """The services' fields of a Container, over the ports given. ``engines``: OCR and speech
    to text for the ingest service (None: images and audio fail as unreadable);
    ``transcription_jobs``: an asynchronous speech-to-text service (Amazon Transcribe) that
    audio goes to instead of ``engines.transcriber``; ``launcher`` / ``registry``:
    fine-tuning (None: the routes answer 503); ``reranker``: reorders the hybrid search's
    candidates, for search and so for chat (None: the fused order)."""
    search = SearchService(index, embedder, settings.max_query_chars, reranker=reranker)
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
                         history_turns=settings.history_turns, models=models,
                         reranker=reranker, min_evidence_score=settings.min_evidence_score),
    )
