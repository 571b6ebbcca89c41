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
- SageMaker's read timeout is the generation budget: botocore treats a read timeout
  as transient and retries it, so ``read_timeout x max_attempts`` must stay below the
  function timeout (API Gateway gives a synchronous request 29 s).
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
    "sagemaker-runtime": (2.0, 12.0, 2, "adaptive"),
    "sagemaker": (2.0, 10.0, 3, "standard"),
    # The embedder function: ~20 ms warm, a few seconds cold; two tries stay inside API
    # Gateway's 29 s.
    "lambda": (2.0, 10.0, 2, "standard"),
}


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
