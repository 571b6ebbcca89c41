"""boto3 clients created on first use, with timeouts and retries chosen per service.

Why lazy: a Lambda cold start pays ~0.1 s to import boto3 and more to build each
client (endpoint rules, credentials); the API function often answers a request
(health, a 403) that needs none of them. ``AwsClients.get`` builds one client per
service the first time an adapter asks and shares it (botocore clients are
thread-safe), so nothing here touches boto3 at import time.

Why these settings:
- every client has explicit connect / read timeouts, so a stuck dependency fails the
  request with a clear error instead of running into the Lambda timeout;
- ``adaptive`` retry mode backs off exponentially on throttling and rate-limits the
  client itself when the service keeps throttling (SageMaker endpoints, DynamoDB);
- botocore treats a read timeout as transient and retries it, so a call's worst case is
  ``(connect + read) x attempts``; ``BLOCKING_PATHS`` adds those up for each function's
  slowest request, and the CDK config refuses a function timeout that the sum does not fit
  (cdk/config.py). The API function (29 s, API Gateway's limit) never calls the model: its
  slowest request is a search (an embedding, two searches, a rerank). The model is called by
  the chat function only, whose timeout is ``functions.chat_timeout_s`` (120 s: a streamed
  answer may run long), so the model's read timeout is the time to a whole unstreamed
  answer, and for a streamed one the longest pause between two parts.
- The embed function is called once per step with no retry: it answers in ~20 ms warm and
  a few seconds cold; a retry after a 6 s read timeout would cost the whole budget, and a
  failed rerank degrades to the fused order anyway.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

ClientSource = Any  # a boto3 client, or a zero-argument callable returning one


def lazy(source: ClientSource) -> Callable[[], Any]:
    """A provider that returns the client, building it on the first call only."""
    if not callable(source):  # already a client (boto3 clients are not callable)
        return lambda: source
    lock = threading.Lock()
    box: list[Any] = []

    def provider() -> Any:
        if not box:
            with lock:
                if not box:
                    box.append(source())
        return box[0]

    return provider


# (connect_timeout, read_timeout, max_attempts, retry mode) per service.
CLIENT_SETTINGS: dict[str, tuple[float, float, int, str]] = {
    "s3": (2.0, 10.0, 3, "standard"),
    "dynamodb": (2.0, 5.0, 4, "adaptive"),
    "sqs": (2.0, 10.0, 3, "standard"),
    "sagemaker-runtime": (2.0, 35.0, 2, "adaptive"),
    "sagemaker": (2.0, 10.0, 3, "standard"),
    "lambda": (1.0, 6.0, 1, "standard"),
}
# OpenSearch (opensearch-py, not botocore): per-request timeouts the index adapter passes.
# A search (_msearch, _search, _count) and a write (_bulk with refresh=wait_for,
# _delete_by_query), neither retried on a timeout (opensearch_client.py).
SEARCH_REQUEST_TIMEOUT_S = 5.0
WRITE_REQUEST_TIMEOUT_S = 12.0

# Each function's slow requests, each as (step, how many in a row). A step is a botocore
# service of CLIENT_SETTINGS or an OpenSearch request kind.
BLOCKING_PATHS: dict[str, dict[str, tuple[tuple[str, int], ...]]] = {
    "api": {
        # POST /api/search: the query's vector, both retrievers' _msearch (a second one
        # fetches exact scores for one-sided candidates), the cross-encoder's rerank.
        "search": (("lambda", 2), ("opensearch-search", 2)),
        # POST/PATCH /api/notices: the notice's vector, the lookup of its old chunks
        # (Serverless), the _bulk write.
        "notice": (("lambda", 1), ("opensearch-search", 1), ("opensearch-write", 1)),
    },
    "chat": {
        # POST /api/chat answered whole: the search above, the evidence choice and the
        # support check (two more reranks), and the model.
        "answer": (("lambda", 4), ("opensearch-search", 2), ("sagemaker-runtime", 1)),
    },
}


def worst_case_s(step: str) -> float:
    """The longest one call of a step can take, its retries included."""
    if step == "opensearch-search":
        return SEARCH_REQUEST_TIMEOUT_S
    if step == "opensearch-write":
        return WRITE_REQUEST_TIMEOUT_S
    connect, read, attempts, _mode = CLIENT_SETTINGS[step]
    return (connect + read) * attempts


def blocking_path_s(function: str) -> float:
    """The worst case of a function's slowest request (``BLOCKING_PATHS``)."""
    return max(sum(worst_case_s(step) * count for step, count in path)
               for path in BLOCKING_PATHS[function].values())


def client_config(service: str, read_timeout: float | None = None,
                  max_attempts: int | None = None):
    """The botocore ``Config`` a service's client is built with."""
    from botocore.config import Config

    connect, read, attempts, mode = CLIENT_SETTINGS.get(service, (2.0, 10.0, 3, "standard"))
    extra = {"signature_version": "s3v4", "s3": {"addressing_style": "virtual"}} \
        if service == "s3" else {}
    return Config(
        connect_timeout=connect,
        read_timeout=read_timeout or read,
        retries={"mode": mode, "total_max_attempts": max_attempts or attempts},
        tcp_keepalive=True,
        **extra,
    )


class AwsClients:
    """One boto3 session and one client per service, all created on first use."""

    def __init__(self, region: str | None = None, *, endpoint_url: str | None = None,
                 overrides: dict[str, tuple[float, int]] | None = None):
        """``endpoint_url`` points every client at one endpoint (moto server tests);
        ``overrides`` maps a service to (read_timeout, max_attempts)."""
        self.region = region
        self.endpoint_url = endpoint_url
        self.overrides = overrides or {}
        self._lock = threading.Lock()
        self._session = None
        self._clients: dict[str, Any] = {}

    @property
    def session(self):
        if self._session is None:
            import boto3

            self._session = boto3.session.Session(region_name=self.region)
        return self._session

    def get(self, service: str):
        client = self._clients.get(service)
        if client is None:
            with self._lock:
                client = self._clients.get(service)
                if client is None:
                    read, attempts = self.overrides.get(service, (None, None))
                    client = self.session.client(
                        service, region_name=self.region, endpoint_url=self.endpoint_url,
                        config=client_config(service, read, attempts),
                    )
                    self._clients[service] = client
        return client

    def provider(self, service: str) -> Callable[[], Any]:
        """A zero-argument factory for an adapter: the client is built on its first call."""
        return lambda: self.get(service)

    def credentials(self):
        """Current credentials (Lambda's role), for SigV4 signing outside botocore."""
        return self.session.get_credentials()

    @property
    def created(self) -> list[str]:
        """Services whose client exists (tests assert nothing was built at bootstrap)."""
        return sorted(self._clients)
