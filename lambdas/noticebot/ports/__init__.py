"""One abstract port per outside system. Services depend on these, never on adapters."""

from noticebot.ports.blob_store import BlobStore
from noticebot.ports.chat_model import ChatModel, Completion, GenerationParams, ModelEndpoint
from noticebot.ports.embedder import Embedder
from noticebot.ports.metadata_store import MetadataStore
from noticebot.ports.ocr import OcrEngine
from noticebot.ports.reranker import Reranker
from noticebot.ports.transcriber import Transcriber, TranscriptionJobs
from noticebot.ports.vector_index import SearchQuery, VectorIndex

__all__ = [
    "BlobStore",
    "ChatModel",
    "Completion",
    "Embedder",
    "GenerationParams",
    "MetadataStore",
    "ModelEndpoint",
    "OcrEngine",
    "Reranker",
    "SearchQuery",
    "Transcriber",
    "TranscriptionJobs",
    "VectorIndex",
]
