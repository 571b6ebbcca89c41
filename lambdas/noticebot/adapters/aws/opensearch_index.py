"""VectorIndex on OpenSearch (managed domain ``es`` or Serverless collection ``aoss``).

One shared index for all workspaces; every request body comes from
``opensearch_queries``, where the workspace ``term`` filter is part of every query.

Hybrid retrieval: two queries fused client-side, not a ``hybrid`` query with a
normalization search pipeline. Why:
- the chat service's relevance gate needs each hit's *own* BM25 and cosine scores
  (``bm25_score`` / ``dense_score``); a pipeline returns only the blended score;
- the fusion is the local index's (``score_fusion``, the pure-Python twin of
  ``hybrid_fusion``: convex, min-max, alpha 0.5, 100 candidates by default, chosen by
  measured nDCG), so a workspace ranks the same on a laptop and in AWS, and one benchmark
  tunes both;
- it works unchanged on Serverless collections and older domains, which lack or
  restrict search pipelines.
Cost: one ``_msearch`` round trip carries both queries. Like the local index, a
candidate found by only one retriever gets its exact score from the other before
fusion; that takes a second ``_msearch`` restricted to those chunk ids, and only
when a candidate list was truncated (a short list already holds every match).

Freshness: on a domain, writes use ``refresh=wait_for`` / ``refresh=true`` so a
document is searchable when ingestion reports it indexed. Serverless collections
refuse the refresh parameter and custom document ids: there writes are visible
after the collection's refresh interval, and a chunk is replaced by deleting the
old copy (looked up by ``chunk_id``) before indexing the new one. A copy written
less than a refresh interval earlier is not found yet and survives as a duplicate
until its document is deleted or re-ingested; ingestion's idempotency (an indexed
document is never re-indexed by a redelivered message) keeps that window rare.

Timeouts: each request carries its own (``request_timeout``): a search 5 s, a write or the
index's set-up 12 s (``clients.SEARCH_REQUEST_TIMEOUT_S`` / ``WRITE_REQUEST_TIMEOUT_S``), so
the API function's slowest request fits API Gateway's 29 s whatever the client's default.

Index-scoped multi-requests: writes go to ``POST /<index>/_bulk`` with no ``_index`` in
the action lines, searches to ``POST /<index>/_msearch`` with empty ``{}`` headers. IAM
sees the path, not the body; with these forms the domain sets
``rest.action.multi.allow_explicit_index: false`` (a body can no longer name another
index than the signed path) and the grants need no root ``/_bulk``. On Serverless only the
paths and header lines change, not its no-custom-id / no-refresh rules; its
supported-operations table lists ``POST <index>/_bulk`` (aoss:WriteDocument), while
``<index>/_msearch`` is the standard form but not yet checked against a live collection
(the ``OPENSEARCH_URL`` conformance suite does).

No numpy here (nor in ``opensearch_queries``): the API bundle does not ship it. Vectors
arrive as numpy arrays (ingestion) or lists of floats (API) and are normalised in Python.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from noticebot.adapters.aws import opensearch_queries as q
from noticebot.adapters.aws.clients import (
    SEARCH_REQUEST_TIMEOUT_S,
    WRITE_REQUEST_TIMEOUT_S,
    ClientSource,
    lazy,
)
from noticebot.adapters.score_fusion import best, fuse, fusion_options
from noticebot.domain.models import Chunk, SearchHit, utcnow
from noticebot.ports.vector_index import SEARCH_MODES, SearchQuery, VectorIndex

MAX_DOCUMENT_CHUNKS = 10_000  # Serverless deletes by listing ids: one page of this size


class OpenSearchError(RuntimeError):
    """A request OpenSearch answered with an error other than a missing index."""


def _is_missing_index(exc: Exception) -> bool:
    return getattr(exc, "status_code", None) == 404


class OpenSearchVectorIndex(VectorIndex):
    def __init__(self, client: ClientSource, index_name: str = "noticebot-chunks", *,
                 service: str = "es", dimension: int = 384, fusion: str = "convex",
                 alpha: float = 0.5, candidates: int = 100, bulk_batch: int = 100):
        if service not in ("es", "aoss"):
            raise ValueError(f"search service must be 'es' or 'aoss', not {service!r}")
        self.index_name = index_name
        self.service = service
        self.dimension = dimension
        self.bulk_batch = bulk_batch
        self._defaults = {"fusion": fusion, "alpha": alpha, "candidates": candidates,
                          "norm": "minmax"}
        self._client = lazy(client)
        self._ready = False
        self._lock = threading.Lock()

    @property
    def client(self):
        return self._client()

    @property
    def serverless(self) -> bool:
        return self.service == "aoss"

    # ------------------------------------------------------------- set-up
    def ensure_index(self) -> None:
        """Creates the template and the index if missing (idempotent; once per process)."""
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            indices = self.client.indices
            write = {"request_timeout": WRITE_REQUEST_TIMEOUT_S}
            if not indices.exists(index=self.index_name, **write):
                indices.put_index_template(
                    name=self.index_name,
                    body=q.template_body(self.index_name, self.dimension, self.service), **write)
                try:
                    indices.create(index=self.index_name,
                                   body=q.index_body(self.dimension, self.service), **write)
                except Exception as exc:  # another function created it first
                    if "resource_already_exists" not in str(getattr(exc, "error", exc)):
                        raise
            self._ready = True

    # ------------------------------------------------------------- writes
    def upsert(self, workspace_id: str, chunks: Sequence[Chunk]) -> None:
        q.scope_filter(workspace_id)  # validates the workspace id
        chunks = list({c.chunk_id: c for c in chunks}.values())  # last wins, no twins
        if not chunks:
            return
        vectors = self._vectors(chunks)
        self.ensure_index()
        if self.serverless:
            self._delete_where(workspace_id, chunk_ids=[c.chunk_id for c in chunks])
        for start in range(0, len(chunks), self.bulk_batch):
            end = start + self.bulk_batch
            lines = q.bulk_index(workspace_id, chunks[start:end], vectors[start:end],
                                 custom_ids=not self.serverless)
            self._bulk(lines)

    def delete_document(self, workspace_id: str, document_id: str) -> int:
        q.scope_filter(workspace_id)
        if self.serverless:
            return self._delete_where(workspace_id, document_ids=[document_id])
        try:
            result = self.client.delete_by_query(
                index=self.index_name, refresh=True, conflicts="proceed",
                body={"query": q.filtered(workspace_id, document_ids=[document_id])},
                request_timeout=WRITE_REQUEST_TIMEOUT_S)
        except Exception as exc:
            if _is_missing_index(exc):
                return 0
            raise
        return int(result.get("deleted", 0))

    def _delete_where(self, workspace_id: str, **scope) -> int:
        """Serverless: find the matching ids, then delete them in one bulk request."""
        body = {"size": MAX_DOCUMENT_CHUNKS, "_source": False,
                "query": q.filtered(workspace_id, **scope)}
        try:
            found = self.client.search(index=self.index_name, body=body,
                                       request_timeout=SEARCH_REQUEST_TIMEOUT_S)
        except Exception as exc:
            if _is_missing_index(exc):
                return 0
            raise
        ids = [h["_id"] for h in found["hits"]["hits"]]
        if ids:
            self._bulk(q.bulk_delete(ids))
        return len(ids)

    def _bulk(self, lines: list[dict]) -> None:
        extra = {} if self.serverless else {"refresh": "wait_for"}
        result = self.client.bulk(index=self.index_name, body=lines,
                                  request_timeout=WRITE_REQUEST_TIMEOUT_S, **extra)
        if result.get("errors"):
            failed = [next(iter(i.values())) for i in result.get("items", [])]
            failed = [f for f in failed if f.get("error") and f.get("status") != 404]
            if failed:
                error = failed[0]["error"]
                raise OpenSearchError(f"{len(failed)} bulk operations failed, first: "
                                      f"{error.get('type')}: {error.get('reason')}")

    def _vectors(self, chunks: Sequence[Chunk]) -> list[list[float]]:
        missing = [c.chunk_id for c in chunks if c.vector is None]
        if missing:
            raise ValueError(f"chunks without vector: {missing[:5]}")
        return [q.unit_vector(c.vector, self.dimension, f"vector of chunk {c.chunk_id}")
                for c in chunks]

    # -------------------------------------------------------------- reads
    def count(self, workspace_id: str) -> int:
        try:
            result = self.client.count(index=self.index_name,
                                       body={"query": q.filtered(workspace_id)},
                                       request_timeout=SEARCH_REQUEST_TIMEOUT_S)
        except Exception as exc:
            if _is_missing_index(exc):
                return 0
            raise
        return int(result["count"])

    def chunks(self, workspace_id: str, limit: int = 5000) -> list[Chunk]:
        """One page, at most 10,000 (the index's max_result_window)."""
        size = max(0, min(int(limit), MAX_DOCUMENT_CHUNKS))
        (rows,) = self._msearch([q.listing(workspace_id, size)]) if size else ([],)
        found = [q.chunk_of(src) for _, _, src in rows]
        return sorted(found, key=lambda c: (c.document_id, c.ordinal, c.chunk_id))

    def search(self, workspace_id: str, query: SearchQuery) -> list[SearchHit]:
        q.scope_filter(workspace_id)
        if query.mode not in SEARCH_MODES:
            raise ValueError(f"unknown search mode {query.mode!r}; expected one of {SEARCH_MODES}")
        if query.mode != "bm25" and query.vector is None:
            raise ValueError(f"mode {query.mode!r} needs query.vector")
        opts = self._options(query.options)
        k = query.top_k
        if k <= 0:
            return []
        scope = {"now": query.now or utcnow(), "document_ids": query.document_ids}
        text = query.text or ""
        if query.mode == "bm25":
            (lex,) = self._msearch([q.lexical_search(workspace_id, text, k, **scope)])
            return [SearchHit(q.chunk_of(src), s, bm25_score=s) for _, s, src in lex]
        vector = self._query_vector(query.vector)
        if query.mode == "dense":
            (knn,) = self._msearch([q.knn_search(workspace_id, vector, k, **scope)])
            return [SearchHit(q.chunk_of(src), q.cosine_of(s), dense_score=q.cosine_of(s))
                    for _, s, src in knn]
        n = max(opts["candidates"], k)
        lex, knn = self._msearch([q.lexical_search(workspace_id, text, n, **scope),
                                  q.knn_search(workspace_id, vector, n, **scope)])
        return self._fuse(workspace_id, text, vector, scope, lex, knn, n, k, opts)

    def _fuse(self, workspace_id, text, vector, scope, lex, knn, n, k, opts) -> list[SearchHit]:
        sources = {cid: src for cid, _, src in (*knn, *lex)}
        ids = list(dict.fromkeys([cid for cid, _, _ in lex] + [cid for cid, _, _ in knn]))
        if not ids:
            return []
        in_lex, in_knn = {c for c, _, _ in lex}, {c for c, _, _ in knn}
        row = {cid: i for i, cid in enumerate(ids)}  # first seen (lexical first): tie order
        bm25, dense = [0.0] * len(ids), [0.0] * len(ids)
        for cid, score, _ in lex:
            bm25[row[cid]] = score
        for cid, score, _ in knn:
            dense[row[cid]] = q.cosine_of(score)
        # Exact scores for candidates only one list found (both lists full = truncated).
        no_bm25 = [c for c in ids if c not in in_lex] if len(lex) >= n else []
        no_dense = [c for c in ids if c not in in_knn] if len(knn) >= n else []
        follow = []
        if no_bm25:
            follow.append(q.lexical_search(workspace_id, text, len(no_bm25),
                                           chunk_ids=no_bm25, **scope))
        if no_dense:
            follow.append(q.knn_search(workspace_id, vector, len(no_dense),
                                       chunk_ids=no_dense, **scope))
        results = iter(self._msearch(follow)) if follow else iter(())
        if no_bm25:
            for cid, score, _ in next(results):
                bm25[row[cid]] = score
        if no_dense:
            for cid, score, _ in next(results):
                dense[row[cid]] = q.cosine_of(score)
        rows, fused = fuse(bm25, dense, [row[c] for c, _, _ in lex],
                           [row[c] for c, _, _ in knn], method=opts["fusion"],
                           alpha=opts["alpha"], norm=opts["norm"])
        return [SearchHit(q.chunk_of(sources[ids[r]]), score, bm25_score=bm25[r],
                          dense_score=dense[r]) for r, score in best(rows, fused, k)]

    def _msearch(self, bodies: list[dict]) -> list[list[tuple[str, float, dict]]]:
        """Runs the bodies in one ``_msearch``; per body: (chunk_id, _score, _source) best first."""
        lines: list[dict] = []
        for body in bodies:
            lines += [{}, body]  # empty header: the path names the index
        try:
            result = self.client.msearch(index=self.index_name, body=lines,
                                         request_timeout=SEARCH_REQUEST_TIMEOUT_S)
        except Exception as exc:
            if _is_missing_index(exc):
                return [[] for _ in bodies]
            raise
        out = []
        for response in result["responses"]:
            error = response.get("error")
            if error:
                kind = error.get("type") if isinstance(error, dict) else str(error)
                if kind == "index_not_found_exception":
                    out.append([])
                    continue
                reason = error.get("reason") if isinstance(error, dict) else ""
                raise OpenSearchError(f"search failed: {kind}: {reason}")
            out.append([(h["_source"]["chunk_id"], float(h.get("_score") or 0.0), h["_source"])
                        for h in response["hits"]["hits"]])
        return out

    def _query_vector(self, vector) -> list[float]:
        return q.unit_vector(vector, self.dimension, "query vector")

    def _options(self, options: dict | None) -> dict:
        return fusion_options(self._defaults, options)
