"""The exact requests OpenSearchVectorIndex sends (paths, params, JSON / NDJSON bodies),
checked against OpenSearch's documented API, through the real opensearch-py client."""

import json
import math
from datetime import datetime, timezone

import numpy as np
import pytest

from contracts.vector_index_contract import BOARD, DIM, NOW, chunk, query, vec
from noticebot.adapters.aws import opensearch_queries as q
from noticebot.adapters.aws.opensearch_index import OpenSearchError, OpenSearchVectorIndex
from noticebot.adapters.local.hybrid_fusion import fuse
from opensearch_fake import FakeCluster

WS_TERM = {"term": {"workspace_id": "riverside"}}
NOT_EXPIRED = {"bool": {"minimum_should_match": 1, "should": [
    {"bool": {"must_not": [{"exists": {"field": "expires_at"}}]}},
    {"range": {"expires_at": {"gt": "2026-11-25T12:00:00+00:00"}}},
]}}


def make(serverless=False, **kw):
    cluster = FakeCluster(serverless=serverless)
    index = OpenSearchVectorIndex(cluster.client(), "noticebot-chunks", dimension=DIM,
                                  service="aoss" if serverless else "es", **kw)
    return cluster, index


def calls(cluster):
    return [(m, p) for m, p, _, _ in cluster.requests]


def test_first_write_creates_template_and_index_with_the_knn_mapping():
    cluster, index = make()
    index.upsert("riverside", BOARD[:1])
    assert calls(cluster)[:4] == [("HEAD", "/noticebot-chunks"),
                                  ("PUT", "/_index_template/noticebot-chunks"),
                                  ("PUT", "/noticebot-chunks"), ("POST", "/noticebot-chunks/_bulk")]
    body = cluster.indices["noticebot-chunks"]["mapping"]
    assert body["settings"] == {"index": {"knn": True, "knn.algo_param.ef_search": 100}}
    props = body["mappings"]["properties"]
    assert props["vector"] == {"type": "knn_vector", "dimension": 384, "method": {
        "name": "hnsw", "engine": "faiss", "space_type": "innerproduct",
        "parameters": {"m": 16, "ef_construction": 128}}}
    for field in ("text", "title", "heading"):
        assert props[field]["analyzer"] == "english" and props[field]["copy_to"] == "search_text"
    assert props["search_text"] == {"type": "text", "analyzer": "english"}
    for field in ("workspace_id", "document_id", "chunk_id"):
        assert props[field] == {"type": "keyword"}
    assert props["expires_at"] == {"type": "date"} and body["mappings"]["dynamic"] == "strict"
    templates = [next(iter(t.values())) for t in body["mappings"]["dynamic_templates"]]
    assert all(t["path_match"] == "metadata.*" for t in templates)  # only metadata is dynamic
    assert templates[-1]["mapping"]["type"] == "keyword"
    template = cluster.templates["noticebot-chunks"]
    assert template["index_patterns"] == ["noticebot-chunks*"] and template["template"] == body
    index.upsert("riverside", BOARD[1:2])
    assert [c for c in calls(cluster) if c[0] == "HEAD"] == [("HEAD", "/noticebot-chunks")]


def test_serverless_index_body_has_no_cluster_settings():
    assert q.index_body(384, "aoss")["settings"] == {"index": {"knn": True}}


def test_bulk_writes_in_batches_with_workspace_scoped_ids_on_the_index_path():
    cluster, index = make(bulk_batch=2)
    chunks = [chunk("big", n, f"Paragraph number {n} of the handbook.") for n in range(5)]
    index.upsert("riverside", chunks)
    bulks = [(m, p, params, body) for m, p, params, body in cluster.requests if "_bulk" in p]
    assert [(m, p, params) for m, p, params, _ in bulks] == \
        [("POST", "/noticebot-chunks/_bulk", {"refresh": "wait_for"})] * 3
    lines = [json.loads(line) for line in bulks[0][3].splitlines()]
    assert lines[0] == {"index": {"_id": "riverside/big:0"}}  # no _index: the path names it
    actions = [line for line in cluster.bodies("_bulk") if "index" in line]
    assert [a["index"] for a in actions] == [{"_id": f"riverside/big:{n}"} for n in range(5)]
    source = lines[1]
    assert {k: source[k] for k in ("workspace_id", "document_id", "chunk_id", "ordinal", "text")} \
        == {"workspace_id": "riverside", "document_id": "big", "chunk_id": "big:0", "ordinal": 0,
            "text": "Paragraph number 0 of the handbook."}
    assert len(source["vector"]) == 384 and all(type(x) is float for x in source["vector"])
    assert all(round(x, 8) == x for x in source["vector"])  # 8 decimals on the wire
    assert np.linalg.norm(source["vector"]) == pytest.approx(1.0, abs=1e-6)
    assert np.allclose(source["vector"], vec("Paragraph number 0 of the handbook."), atol=1e-7)


@pytest.mark.parametrize("vector, error", [
    (np.ones(8), "dimension 8 != index dimension 384"),
    ([1.0] * 383, "dimension 383 != index dimension 384"),
    (["0.5"] * 384, "sequence of numbers"),
    ([True] * 384, "sequence of numbers"),
    (42, "sequence of numbers"),
    ([float("nan")] + [0.0] * 383, "NaN or infinite"),
])
def test_bad_vectors_are_refused_before_any_request(vector, error):
    cluster, index = make()
    bad = chunk("d", 0, "x")
    with pytest.raises(ValueError, match=error):
        index.upsert("riverside", [type(bad)(**{**bad.__dict__, "vector": vector})])
    with pytest.raises(ValueError, match=error):
        index.search("riverside", type(query("x"))(**{**query("x").__dict__, "vector": vector}))
    assert cluster.requests == []


@pytest.mark.parametrize("shape", [(384,), (1, 384)])
def test_vectors_are_any_sequence_of_numbers_normalised_in_python(shape):
    v = np.arange(1, 385, dtype=np.float32).reshape(shape)
    as_list = q.unit_vector([int(x) for x in range(1, 385)], 384)
    assert q.unit_vector(v, 384) == pytest.approx(as_list, abs=1e-7)
    assert q.unit_vector(np.float64(2.0) * v, 384) == pytest.approx(as_list, abs=1e-7)
    assert math.fsum(x * x for x in as_list) == pytest.approx(1.0, abs=1e-12)
    assert q.unit_vector([0] * 384, 384) == [0.0] * 384  # a zero vector stays zero


def test_plain_list_vectors_index_and_search_like_numpy_ones():
    """The API sends lists of floats (it ships without numpy); ingestion sends arrays."""
    _, with_arrays = make()
    _, with_lists = make()
    with_arrays.upsert("riverside", BOARD)
    with_lists.upsert("riverside", [type(c)(**{**c.__dict__, "vector": c.vector.tolist()})
                                    for c in BOARD])
    for mode in ("hybrid", "dense"):
        arrays = with_arrays.search("riverside", query("bicycle helmets", mode))
        listed = query("bicycle helmets", mode)
        lists = with_lists.search("riverside", type(listed)(
            **{**listed.__dict__, "vector": listed.vector.tolist()}))
        assert [(h.chunk.chunk_id, round(h.score, 6)) for h in lists] == \
            [(h.chunk.chunk_id, round(h.score, 6)) for h in arrays]


def test_hybrid_search_sends_both_queries_in_one_msearch_with_the_documented_shapes():
    cluster, index = make()
    index.upsert("riverside", BOARD)
    cluster.requests.clear()
    index.search("riverside", query("helmets", top_k=3))
    assert calls(cluster) == [("POST", "/noticebot-chunks/_msearch")]
    header, lexical, header2, knn = cluster.bodies("_msearch")
    assert header == header2 == {}  # no index in the header lines: the path names it
    assert lexical == {
        "size": 100, "track_total_hits": False, "_source": {"excludes": ["vector"]},
        "query": {"bool": {"must": [{"match": {"search_text": {"query": "helmets"}}}],
                           "filter": [WS_TERM, NOT_EXPIRED]}},
    }
    assert knn["size"] == 100 and knn["_source"] == {"excludes": ["vector"]}
    clause = knn["query"]["knn"]["vector"]
    assert clause["k"] == 100 and clause["filter"] == {"bool": {"filter": [WS_TERM, NOT_EXPIRED]}}
    assert np.allclose(clause["vector"], vec("helmets"), atol=1e-6)


def test_narrowing_and_bm25_and_dense_modes_send_one_query_each():
    cluster, index = make()
    index.upsert("riverside", BOARD)
    cluster.requests.clear()
    index.search("riverside", query("pool", "bm25", top_k=2, document_ids=frozenset({"pool"})))
    index.search("riverside", query("pool", "dense", top_k=2))
    (_, lexical, _, knn) = cluster.bodies("_msearch")
    assert lexical["size"] == 2 and "knn" not in lexical["query"]
    assert lexical["query"]["bool"]["filter"][2] == {"terms": {"document_id": ["pool"]}}
    assert knn["query"]["knn"]["vector"]["k"] == 2


def test_truncated_candidate_lists_fetch_exact_scores_for_one_sided_candidates():
    cluster, index = make(candidates=1)
    index.upsert("riverside", [
        chunk("a", 0, "helmets helmets"),       # a rare query word: the best BM25 match
        chunk("b", 0, "gate park north"),       # common query words: the closest vector
        chunk("c", 0, "gate park north gate"),
        chunk("d", 0, "gate park north trail"),
    ])
    text = "helmets gate park north"
    lexical_top = index.search("riverside", query(text, "bm25", top_k=1))[0]
    dense_top = index.search("riverside", query(text, "dense", top_k=1))[0]
    assert (lexical_top.chunk.chunk_id, dense_top.chunk.chunk_id) == ("a:0", "b:0")
    cluster.requests.clear()
    (hit,) = index.search("riverside", query(text, top_k=1))
    assert len(cluster.requests) == 2  # the pair, then the exact scores of one-sided candidates
    follow = [b for b in cluster.bodies("_msearch") if "query" in b][2:]
    assert follow[0]["query"]["bool"]["filter"][-1] == {"terms": {"chunk_id": ["b:0"]}}
    assert follow[1]["query"]["knn"]["vector"]["filter"]["bool"]["filter"][-1] == \
        {"terms": {"chunk_id": ["a:0"]}}
    assert follow[1]["query"]["knn"]["vector"]["k"] == 1
    # Both exact scores of both candidates went into the local index's fusion.
    only_b = query(text, "bm25", top_k=1, document_ids=frozenset({"b"}))
    bm25_b = index.search("riverside", only_b)[0].bm25_score
    dense_a = float(np.dot(vec("helmets helmets"), vec(text)))
    bm25 = np.array([lexical_top.bm25_score, bm25_b])
    dense = np.array([dense_a, dense_top.dense_score])
    rows, fused = fuse(bm25, dense, np.array([0]), np.array([1]), method="convex", alpha=0.5,
                       norm="minmax")
    best = int(rows[np.argmax(fused)])
    assert hit.chunk.chunk_id == ["a:0", "b:0"][best]
    assert hit.score == pytest.approx(float(fused.max()))
    assert (hit.bm25_score, hit.dense_score) == pytest.approx((bm25[best], dense[best]), abs=1e-5)


def test_delete_by_query_and_count_are_scoped_to_workspace_and_document():
    cluster, index = make()
    index.upsert("riverside", BOARD)
    cluster.requests.clear()
    assert index.delete_document("riverside", "rules") == 2
    assert index.count("riverside") == 2
    (method, path, params, body), (_, count_path, _, count_body) = cluster.requests
    assert (method, path, params) == ("POST", "/noticebot-chunks/_delete_by_query",
                                      {"refresh": "true", "conflicts": "proceed"})
    assert json.loads(body) == {"query": {"bool": {"filter": [
        WS_TERM, {"terms": {"document_id": ["rules"]}}]}}}
    assert count_path == "/noticebot-chunks/_count"
    assert json.loads(count_body) == {"query": {"bool": {"filter": [WS_TERM]}}}


def test_every_query_the_adapter_sends_is_filtered_by_workspace():
    cluster, index = make(candidates=1)
    index.upsert("riverside", BOARD)
    for mode in ("hybrid", "bm25", "dense"):
        index.search("riverside", query("helmets pool rides", mode))
    index.count("riverside")
    index.delete_document("riverside", "pool")
    queries = [b for b in cluster.bodies("_msearch") if "query" in b]
    queries += cluster.bodies("_count") + cluster.bodies("_delete_by_query")
    assert len(queries) >= 6
    for body in queries:
        clause = body["query"]
        filters = (clause["knn"]["vector"]["filter"] if "knn" in clause else clause)["bool"]["filter"]
        assert filters[0] == WS_TERM, body


def test_serverless_writes_without_ids_or_refresh_and_replaces_by_chunk_id():
    cluster, index = make(serverless=True)
    index.upsert("riverside", BOARD)
    index.upsert("riverside", [chunk("pool", 0, "The pool reopens on Monday.")])
    assert all("refresh" not in params for _, _, params, _ in cluster.requests)
    assert {p for _, p, _, _ in cluster.requests if "_bulk" in p} == {"/noticebot-chunks/_bulk"}
    actions = [line for line in cluster.bodies("_bulk") if "index" in line or "delete" in line]
    assert [a["index"] for a in actions if "index" in a] == [{}] * 5  # neither _id nor _index
    deletes = [a["delete"] for a in actions if "delete" in a]
    assert len(deletes) == 1  # the old copy of pool:0, found by its chunk_id
    assert set(deletes[0]) == {"_id"}  # no _index: the path names it
    lookups = cluster.bodies("/noticebot-chunks/_search")
    assert lookups[-1] == {"size": 10000, "_source": False, "query": {"bool": {"filter": [
        WS_TERM, {"terms": {"chunk_id": ["pool:0"]}}]}}}
    assert index.count("riverside") == 4
    assert index.delete_document("riverside", "rules") == 2 and index.count("riverside") == 2


def test_a_missing_index_reads_as_empty():
    cluster, index = make()
    assert index.search("riverside", query("anything")) == []
    assert index.count("riverside") == 0 and index.delete_document("riverside", "d") == 0
    assert "noticebot-chunks" not in cluster.indices  # reads never create the index


def test_errors_are_raised_not_swallowed():
    cluster, index = make()
    index.upsert("riverside", BOARD[:1])
    real = cluster.handle

    def failing(method, url, params, body):
        if url.endswith("_bulk"):
            return 200, {"errors": True, "items": [{"index": {"status": 400, "error": {
                "type": "mapper_parsing_exception", "reason": "bad vector"}}}]}
        if url.endswith("_msearch"):
            return 200, {"responses": [{"status": 500, "error": {
                "type": "search_phase_execution_exception", "reason": "all shards failed"}}]}
        return real(method, url, params, body)

    cluster.handle = failing
    with pytest.raises(OpenSearchError, match="mapper_parsing_exception"):
        index.upsert("riverside", BOARD[1:2])
    with pytest.raises(OpenSearchError, match="all shards failed"):
        index.search("riverside", query("x", "bm25"))


@pytest.mark.parametrize("ip", [-0.9, -0.3, 0.0, 0.42, 0.99])
def test_knn_scores_invert_to_cosine(ip):
    score = ip + 1 if ip >= 0 else 1 / (1 - ip)
    assert q.cosine_of(score) == pytest.approx(ip)


def test_expires_at_is_sent_as_an_iso_date():
    when = datetime(2026, 12, 1, 18, 0, tzinfo=timezone.utc)
    source = q.chunk_source("ws", chunk("n", 0, "x", expires_at=when), vec("x"))
    assert source["expires_at"] == "2026-12-01T18:00:00+00:00"
    assert q.chunk_of(source).expires_at == when


def test_building_the_adapter_creates_no_client():
    built = []
    OpenSearchVectorIndex(lambda: built.append(1), "i")
    assert built == []
    assert NOW.tzinfo is not None


def test_the_fake_refuses_explicit_indices_like_a_domain_that_disallows_them():
    """rest.action.multi.allow_explicit_index=false, as the CDK domain sets it."""
    from opensearchpy.exceptions import RequestError

    cluster, index = make()
    index.upsert("riverside", BOARD[:1])
    client = cluster.client()
    source = {"workspace_id": "riverside", "chunk_id": "x", "document_id": "x", "text": "x"}
    search = q.listing("riverside", 1)
    refused = [
        lambda: client.bulk(body=[{"index": {"_index": "noticebot-chunks"}}, source]),
        lambda: client.bulk(index="noticebot-chunks", body=[
            {"index": {"_index": "noticebot-chunks"}}, source]),
        lambda: client.bulk(index="noticebot-chunks", body=[
            {"delete": {"_index": "other", "_id": "x"}}]),
        lambda: client.msearch(body=[{"index": "noticebot-chunks"}, search]),
        lambda: client.msearch(index="noticebot-chunks", body=[{"index": "other"}, search]),
    ]
    for request in refused:
        with pytest.raises(RequestError) as refusal:
            request()
        assert "explicit" in refusal.value.info["error"]["reason"]
    (rows,) = client.msearch(index="noticebot-chunks", body=[{}, search])["responses"]
    assert [h["_source"]["chunk_id"] for h in rows["hits"]["hits"]] == [BOARD[0].chunk_id]
