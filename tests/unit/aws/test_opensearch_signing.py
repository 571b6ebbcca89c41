"""The client bootstrap_aws builds signs requests with SigV4 for the configured service."""

import pytest
import requests
from botocore.credentials import Credentials

from noticebot.adapters.aws.opensearch_client import opensearch_client

CREDS = Credentials("AKIDEXAMPLE", "secret", "session-token")


def signed(client) -> requests.PreparedRequest:
    connection = client.transport.get_connection()
    request = requests.Request("POST", "https://abc123.us-east-1.aoss.amazonaws.com/_msearch",
                               data=b'{"index":"noticebot-chunks"}\n{}\n').prepare()
    return connection.session.auth(request)


@pytest.mark.parametrize("service", ["es", "aoss"])
def test_requests_are_signed_for_the_service(service):
    client = opensearch_client("https://abc123.us-east-1.aoss.amazonaws.com", service=service,
                               region="us-east-1", credentials=CREDS)
    request = signed(client)
    auth = request.headers["Authorization"]
    assert auth.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert f"/us-east-1/{service}/aws4_request" in auth
    assert request.headers["X-Amz-Security-Token"] == "session-token"
    assert "x-amz-content-sha256" in {k.lower() for k in request.headers}  # Serverless needs it


def test_bare_hosts_default_to_https_443():
    client = opensearch_client("search-x.eu-west-1.es.amazonaws.com", service="es",
                               region="eu-west-1", credentials=CREDS)
    connection = client.transport.get_connection()
    assert connection.host == "https://search-x.eu-west-1.es.amazonaws.com:443"


def test_a_self_run_cluster_uses_basic_auth_from_the_url():
    client = opensearch_client("http://admin:s3cr%40t@localhost:9200", service=None)
    connection = client.transport.get_connection()
    assert connection.host == "http://localhost:9200"
    assert connection.session.auth == ("admin", "s3cr@t")


def test_unknown_service_is_refused():
    with pytest.raises(ValueError, match="es"):
        opensearch_client("https://x", service="kendra", region="us-east-1", credentials=CREDS)
