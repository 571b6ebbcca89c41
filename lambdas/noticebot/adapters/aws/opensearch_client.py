"""Builds the opensearch-py client: SigV4-signed for a domain ("es") or a Serverless
collection ("aoss"), plain (or basic auth in the URL) for a self-run cluster.

Why opensearch-py's ``RequestsAWSV4SignerAuth`` and ``RequestsHttpConnection``: the
signer signs each request with the function role's credentials (refreshed by
botocore), with the service name that tells a domain from a collection. The
package costs ~0.2 s to import, so this module imports it only when the first
search or write builds the client, never at cold-start import.

Why these transport settings: a 10 s timeout (search is the chat's first step, and
API Gateway gives the whole request 29 s), two retries on 502/503/504 (a domain
under blue/green or a collection scaling), no retry on a timeout (a slow query
retried doubles the wait), a small connection pool (a Lambda handles one request
at a time; the ingest function shares the client between its batch records).
"""

from __future__ import annotations

from urllib.parse import unquote, urlparse


def opensearch_client(endpoint: str, *, service: str | None, region: str | None = None,
                      credentials=None, timeout: float = 10.0, **overrides):
    """``endpoint``: ``https://host`` or a bare host (the domain / collection endpoint, as
    CDK exports it) or ``http(s)://user:pass@host:port`` for a self-run cluster.
    ``service``: "es" or "aoss" to sign with SigV4, None for no signing."""
    from opensearchpy import OpenSearch, RequestsAWSV4SignerAuth, RequestsHttpConnection

    if not endpoint:
        raise ValueError("an OpenSearch endpoint is required (NOTICEBOT_SEARCH_ENDPOINT)")
    url = urlparse(endpoint if "://" in endpoint else f"https://{endpoint}")
    secure = url.scheme == "https"
    auth = None
    if service:
        if service not in ("es", "aoss"):
            raise ValueError(f"NOTICEBOT_SEARCH_SERVICE must be 'es' or 'aoss', not {service!r}")
        if credentials is None:
            import boto3

            credentials = boto3.session.Session().get_credentials()
        auth = RequestsAWSV4SignerAuth(credentials, region, service)
    elif url.username:
        auth = (unquote(url.username), unquote(url.password or ""))
    options = dict(
        hosts=[{"host": url.hostname, "port": url.port or (443 if secure else 80)}],
        http_auth=auth, use_ssl=secure, verify_certs=secure, ssl_show_warn=False,
        connection_class=RequestsHttpConnection, pool_maxsize=4, timeout=timeout,
        max_retries=2, retry_on_status=(502, 503, 504), retry_on_timeout=False,
    )
    options.update(overrides)
    return OpenSearch(**options)
