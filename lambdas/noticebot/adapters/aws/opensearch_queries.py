"""OpenSearch request bodies for the chunk index: mapping, template, writes and queries.

Pure functions (no client, no I/O) so tests assert the exact JSON sent, and so the
one rule that matters most is visible in one place: every query body is built from
``scope_filter``, whose first clause is the workspace ``term``. No builder here
takes a query without a workspace id.

Mapping choices:
- ``vector``: ``knn_vector``, HNSW on the faiss engine, ``innerproduct``. The embedder
  returns L2-normalised vectors (and the adapter re-normalises), so inner product
  *is* cosine, without cosinesimil's per-query normalisation and without its
  rejection of zero vectors. Faiss supports efficient (pre-)filtering from
  OpenSearch 2.9 and is available on managed domains and Serverless collections.
- ``text`` / ``title`` / ``heading``: ``english`` analyzer, each copied into
  ``search_text``, the one field BM25 runs on: the local index scores the passage,
  its title and heading as one bag of words too.
- ``workspace_id``, ``document_id``, ``chunk_id``: ``keyword`` (exact filters);
  metadata leaves become keywords through dynamic templates; ``expires_at`` is a
  ``date``; ``dynamic: strict`` at the root, so a typo cannot create a field.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from datetime import datetime

from noticebot.domain.models import Chunk

VECTOR_FIELD = "vector"
LEXICAL_FIELD = "search_text"
SOURCE_EXCLUDES = [VECTOR_FIELD]  # never ship 384 floats per hit back to the Lambda


def _text(copy: bool = True) -> dict:
    field = {"type": "text", "analyzer": "english"}
    if copy:
        field["copy_to"] = LEXICAL_FIELD
    return field


def index_body(dimension: int, service: str = "es") -> dict:
    """``PUT <index>`` body. Serverless collections reject shard / replica and
    algorithm settings, so only ``index.knn`` is sent there."""
    settings: dict = {"index": {"knn": True}}
    if service == "es":
        settings["index"]["knn.algo_param.ef_search"] = 100
    return {
        "settings": settings,
        "mappings": {
            "dynamic": "strict",
            # Parsers put free-form metadata on chunks ("sheet": 2 here, "Budget" there):
            # every leaf is a keyword, so differing JSON types can never break a bulk write.
            "dynamic_templates": [
                {"metadata_objects": {"path_match": "metadata.*", "match_mapping_type": "object",
                                      "mapping": {"type": "object"}}},
                {"metadata_values": {"path_match": "metadata.*",
                                     "mapping": {"type": "keyword", "ignore_above": 256}}},
            ],
            "properties": {
                "workspace_id": {"type": "keyword"},
                "document_id": {"type": "keyword"},
                "chunk_id": {"type": "keyword"},
                "ordinal": {"type": "integer"},
                "page": {"type": "integer"},
                "text": _text(),
                "title": {**_text(), "fields": {"raw": {"type": "keyword", "ignore_above": 256}}},
                "heading": _text(),
                LEXICAL_FIELD: _text(copy=False),
                "expires_at": {"type": "date"},
                "metadata": {"type": "object", "dynamic": True},
                VECTOR_FIELD: {
                    "type": "knn_vector", "dimension": int(dimension),
                    "method": {"name": "hnsw", "engine": "faiss", "space_type": "innerproduct",
                               "parameters": {"m": 16, "ef_construction": 128}},
                },
            },
        },
    }


def template_body(index_name: str, dimension: int, service: str = "es") -> dict:
    """``PUT _index_template/<index>``: an index re-created under this name (or a
    versioned ``<index>-v2`` for a re-index) gets the same mapping."""
    return {"index_patterns": [f"{index_name}*"], "priority": 100,
            "template": index_body(dimension, service)}


# ----------------------------------------------------------------- filters
def scope_filter(workspace_id: str, *, now: datetime | None = None,
                 document_ids: Iterable[str] | None = None,
                 chunk_ids: Iterable[str] | None = None) -> list[dict]:
    """Filter clauses (no scoring). The workspace term always comes first."""
    if not isinstance(workspace_id, str) or not workspace_id:
        raise ValueError("workspace_id is required")
    clauses: list[dict] = [{"term": {"workspace_id": workspace_id}}]
    if now is not None:
        clauses.append({"bool": {"minimum_should_match": 1, "should": [
            {"bool": {"must_not": [{"exists": {"field": "expires_at"}}]}},
            {"range": {"expires_at": {"gt": now.isoformat()}}},
        ]}})
    if document_ids is not None:
        clauses.append({"terms": {"document_id": sorted(document_ids)}})
    if chunk_ids is not None:
        clauses.append({"terms": {"chunk_id": sorted(chunk_ids)}})
    return clauses


def filtered(workspace_id: str, **scope) -> dict:
    """A query matching the workspace's chunks (delete, count, id lookups)."""
    return {"bool": {"filter": scope_filter(workspace_id, **scope)}}


def lexical_search(workspace_id: str, text: str, size: int, **scope) -> dict:
    """BM25 on ``search_text``; filters do not score, so ``_score`` is the BM25 score."""
    return {
        "size": int(size), "track_total_hits": False, "_source": {"excludes": SOURCE_EXCLUDES},
        "query": {"bool": {"must": [{"match": {LEXICAL_FIELD: {"query": text}}}],
                           "filter": scope_filter(workspace_id, **scope)}},
    }


def knn_search(workspace_id: str, vector: Sequence[float], k: int, **scope) -> dict:
    """k-NN with the filter inside the ``knn`` clause (efficient filtering): the engine
    searches only the workspace's vectors, so a small tenant still gets k results
    (a post-filter would return the global top k minus other tenants' chunks)."""
    return {
        "size": int(k), "track_total_hits": False, "_source": {"excludes": SOURCE_EXCLUDES},
        "query": {"knn": {VECTOR_FIELD: {
            "vector": [round(float(x), 8) for x in vector], "k": int(k),
            "filter": {"bool": {"filter": scope_filter(workspace_id, **scope)}},
        }}},
    }


def listing(workspace_id: str, size: int) -> dict:
    """A workspace's chunks in document order, no scoring (the fine-tune dataset builder)."""
    return {"size": int(size), "track_total_hits": False, "_source": {"excludes": SOURCE_EXCLUDES},
            "sort": [{"document_id": "asc"}, {"ordinal": "asc"}],
            "query": filtered(workspace_id)}


def cosine_of(score: float) -> float:
    """Invert faiss' innerproduct scoring (score = 1 + ip for ip >= 0, else 1 / (1 - ip)),
    so hits carry the cosine the relevance gate's thresholds are calibrated on."""
    if score >= 1.0:
        return score - 1.0
    return 1.0 - 1.0 / score if score > 0 else -1.0


# ------------------------------------------------------------------- writes
def unit_vector(values, dimension: int, what: str = "vector") -> list[float]:
    """``values`` L2-normalised as a list of floats (a zero vector stays zero).

    Pure Python, because the API bundle ships without numpy: ``values`` is a numpy array
    at ingestion (the embedder's output) and a list of floats on the API path. 384 floats
    cost microseconds either way."""
    if hasattr(values, "ravel"):  # a numpy array of any shape, without importing numpy
        values = values.ravel().tolist()
    try:
        values = list(values)
    except TypeError:
        raise ValueError(f"{what} must be a sequence of numbers") from None
    if not all(isinstance(x, numbers.Real) and not isinstance(x, bool) for x in values):
        raise ValueError(f"{what} must be a sequence of numbers")
    floats = [float(x) for x in values]
    if len(floats) != dimension:
        raise ValueError(f"{what} dimension {len(floats)} != index dimension {dimension} "
                         "(the index mapping)")
    if not all(math.isfinite(x) for x in floats):
        raise ValueError(f"{what} has NaN or infinite values")
    norm = math.sqrt(math.fsum(x * x for x in floats))
    return [x / norm for x in floats] if norm > 0 else floats


def chunk_source(workspace_id: str, chunk: Chunk, vector: Sequence[float]) -> dict:
    source = {
        "workspace_id": workspace_id, "document_id": chunk.document_id,
        "chunk_id": chunk.chunk_id, "ordinal": int(chunk.ordinal), "text": chunk.text,
        "title": chunk.title or "", "heading": chunk.heading, "page": chunk.page,
        "expires_at": chunk.expires_at.isoformat() if chunk.expires_at else None,
        "metadata": dict(chunk.metadata or {}),
        # 8 decimals keep float32 precision at half the JSON of repr().
        VECTOR_FIELD: [round(float(x), 8) for x in vector],
    }
    return {k: v for k, v in source.items() if v is not None}


def doc_id(workspace_id: str, chunk_id: str) -> str:
    """The OpenSearch ``_id``: the workspace is part of it, so chunk ids that collide
    across workspaces can never overwrite each other."""
    return f"{workspace_id}/{chunk_id}"


def bulk_index(workspace_id: str, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]],
               *, custom_ids: bool = True) -> list[dict]:
    """NDJSON lines for ``POST /<index>/_bulk``: no ``_index`` in an action line (the path
    names the index, and the domain refuses explicit indices). Serverless vector collections
    refuse custom ids, so there the id is left to the service (and replacement deletes by
    ``chunk_id`` first)."""
    lines: list[dict] = []
    for chunk, vector in zip(chunks, vectors, strict=True):
        action = {"_id": doc_id(workspace_id, chunk.chunk_id)} if custom_ids else {}
        lines += [{"index": action}, chunk_source(workspace_id, chunk, vector)]
    return lines


def bulk_delete(ids: Iterable[str]) -> list[dict]:
    """NDJSON lines for ``POST /<index>/_bulk``, index-scoped like ``bulk_index``."""
    return [{"delete": {"_id": i}} for i in ids]


def chunk_of(source: dict) -> Chunk:
    expires = source.get("expires_at")
    return Chunk(
        chunk_id=source["chunk_id"], document_id=source["document_id"],
        ordinal=int(source.get("ordinal", 0)), text=source.get("text", ""),
        title=source.get("title", ""), page=source.get("page"), heading=source.get("heading"),
        expires_at=datetime.fromisoformat(expires) if expires else None,
        metadata=dict(source.get("metadata") or {}),
    )
