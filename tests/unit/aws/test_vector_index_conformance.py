"""The VectorIndex conformance suite against the local index (always) and a real OpenSearch
cluster (only when OPENSEARCH_URL is set; see tests/contracts/vector_index_contract.py)."""

import os
import time
import uuid

import pytest

from contracts.vector_index_contract import DIM, VectorIndexContract
from noticebot.adapters.local.hybrid_index import EmbeddedHybridIndex


class TestEmbeddedHybridIndexConformance(VectorIndexContract):
    @pytest.fixture
    def index(self, tmp_path):
        idx = EmbeddedHybridIndex(tmp_path / "index")
        yield idx
        idx.close()


OPENSEARCH_URL = os.environ.get("OPENSEARCH_URL")


class _OpenSearchConformance(VectorIndexContract):
    service = os.environ.get("OPENSEARCH_SERVICE") or None  # "es" / "aoss" sign with SigV4

    def settle(self, index) -> None:
        if index.serverless:
            time.sleep(float(os.environ.get("OPENSEARCH_SETTLE_S", "15")))  # no refresh API
        else:
            index.client.indices.refresh(index=index.index_name)

    @pytest.fixture
    def index(self):
        from noticebot.adapters.aws.opensearch_client import opensearch_client
        from noticebot.adapters.aws.opensearch_index import OpenSearchVectorIndex

        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        client = opensearch_client(OPENSEARCH_URL, service=self.service, region=region)
        name = f"noticebot-contract-{uuid.uuid4().hex[:10]}"
        idx = OpenSearchVectorIndex(client, name, service=self.service or "es", dimension=DIM)
        idx.ensure_index()
        yield idx
        client.indices.delete(index=name, ignore=[404])
        client.indices.delete_index_template(name=name, ignore=[404])


if OPENSEARCH_URL:
    TestOpenSearchConformance = _OpenSearchConformance
else:
    def test_opensearch_conformance_needs_a_cluster():
        """One skip line instead of one per contract test when no cluster is configured."""
        pytest.skip("set OPENSEARCH_URL to run the VectorIndex suite against a real OpenSearch")
