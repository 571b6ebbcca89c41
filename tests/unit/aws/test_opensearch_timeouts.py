"""Every OpenSearch request carries the timeout of its kind, so the API function's slowest
request fits API Gateway's 29 s whatever the client's default (cdk/config.py checks the sum)."""

from __future__ import annotations

from opensearch_fake import FakeCluster

from noticebot.adapters.aws.clients import SEARCH_REQUEST_TIMEOUT_S, WRITE_REQUEST_TIMEOUT_S
from noticebot.adapters.aws.opensearch_index import OpenSearchVectorIndex
from noticebot.domain.models import Chunk
from noticebot.ports.vector_index import SearchQuery


def recorded_timeouts(serverless: bool) -> list[tuple[str, str, float]]:
    cluster = FakeCluster(serverless=serverless)
    client = cluster.client()
    seen = []
    connection = client.transport.get_connection()  # the fake's one connection
    original = connection.perform_request

    def record(method, url, params=None, body=None, timeout=None, ignore=(), headers=None):
        seen.append((method, url.split("?")[0], timeout))
        return original(method, url, params, body, timeout=timeout, ignore=ignore,
                        headers=headers)

    connection.perform_request = record
    index = OpenSearchVectorIndex(client, "noticebot-chunks",
                                  service="aoss" if serverless else "es", dimension=4)
    index.search("ws1", SearchQuery(text="x", vector=[1, 0, 0, 0]))
    index.upsert("ws1", [Chunk(chunk_id=f"c{i}", document_id="d", ordinal=i, text="hello",
                               vector=[1, 0, 0, i]) for i in range(3)])
    index.search("ws1", SearchQuery(text="hello", vector=[1, 0, 0, 0], top_k=1,
                                    options={"candidates": 1}))
    index.count("ws1")
    index.delete_document("ws1", "d")
    return seen


def test_searches_get_the_search_timeout_and_writes_the_write_timeout():
    for serverless in (False, True):
        seen = recorded_timeouts(serverless)
        assert seen
        for method, path, timeout in seen:
            write = method in ("HEAD", "PUT") or path.endswith(("/_bulk", "/_delete_by_query"))
            expected = WRITE_REQUEST_TIMEOUT_S if write else SEARCH_REQUEST_TIMEOUT_S
            assert timeout == expected, (serverless, method, path, timeout)
