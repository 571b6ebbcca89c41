"""The container: the ports one mode's composition root built, and the services over them.

``bootstrap_local`` and ``bootstrap_aws`` each build the adapters for their mode and hand them
to ``wire_services``, so both modes run the very same services. Handlers receive a container
as an argument; nothing here is global.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from noticebot.config import Settings
from noticebot.ingestion.engines import Engines
from noticebot.ports import BlobStore, ChatModel, Embedder, MetadataStore, Reranker, VectorIndex
from noticebot.ports.identity_directory import IdentityDirectory
from noticebot.services.accounts import AccountService
from noticebot.services.chat import ChatService
from noticebot.services.documents import DocumentService
from noticebot.services.finetune import FineTuneService
from noticebot.services.ingest import IngestService
from noticebot.services.members import MembersService
from noticebot.services.models import ModelService
from noticebot.services.notices import NoticeService
from noticebot.services.notifications import NotificationService
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
    members: MembersService | None = None
    # unread markers, devices, mutes, and the pushes a surfaced notice becomes
    notifications: NotificationService | None = None
    # where posts and new pins are announced: SQS (aws), a QueuedNoticeEvents (local: its
    # worker delivers to ``notifications``; ``drain()`` delivers at once)
    notice_events: Any = None
    accounts: AccountService | None = None
    # The identity provider's accounts: Cognito (aws; None without NOTICEBOT_USER_POOL_ID) or
    # the local password accounts.
    directory: IdentityDirectory | None = None
    finetune: FineTuneService | None = None
    models: ModelService | None = None
    launcher: Any = None  # TrainingLauncher (SageMaker / subprocess)
    registry: Any = None  # ModelRegistry (SageMaker model packages + components / local)
    # local mode: the S3 -> SQS -> Lambda stand-in, a QueueWorker (drain / start / stop) over
    # the durable SqliteQueue in <data>/queue.sqlite3 (``queue.messages``)
    queue: Any = None
    # local mode: the JWT authority the dev server verifies with (and refuses signed-out
    # tokens with)
    auth: Any = None


def wire_services(settings: Settings, metadata, blobs, index, embedder, chat_model,
                  engines: Engines | None = None, transcription_jobs=None, launcher=None,
                  registry=None, reranker: Reranker | None = None,
                  directory: IdentityDirectory | None = None, notifier=None,
                  notice_events=None) -> dict:
    """The services' fields of a Container, over the ports given. ``engines``: OCR and speech
    to text for the ingest service (None: images and audio fail as unreadable);
    ``transcription_jobs``: an asynchronous speech-to-text service (Amazon Transcribe) that
    audio goes to instead of ``engines.transcriber``; ``launcher`` / ``registry``:
    fine-tuning (None: the routes answer 503); ``reranker``: reorders the hybrid search's
    candidates, for search and so for chat (None: the fused order); ``directory``: the
    identity provider's accounts, which invitations, role changes and removals are passed on
    to (None: membership is kept, invitations answer 503); ``notifier``: the push service
    (None: nothing is pushed); ``notice_events``: where posts and new pins are announced for
    the notifier (None: nowhere)."""
    search = SearchService(index, embedder, settings.max_query_chars, reranker=reranker)
    models = ModelService(metadata, registry, launcher, base_model=settings.base_model)
    members = MembersService(metadata, directory,
                             invitation_ttl=timedelta(days=settings.invitation_ttl_days))
    return dict(
        launcher=launcher, registry=registry, models=models, directory=directory,
        members=members, accounts=AccountService(directory, members, metadata),
        notifications=NotificationService(metadata, notifier, events=notice_events),
        notice_events=notice_events,
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
                              settings.chunk_overlap_tokens, events=notice_events),
        search=search,
        chat=ChatService(search, chat_model, metadata, top_k=settings.chat_top_k,
                         max_new_tokens=settings.chat_max_new_tokens,
                         history_turns=settings.history_turns, models=models,
                         reranker=reranker, min_evidence_score=settings.min_evidence_score),
    )
