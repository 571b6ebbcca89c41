"""The VectorIndex conformance suite against OpenSearchVectorIndex, through the real
opensearch-py client and a hand-written in-memory cluster (opensearch_fake.py), for a
managed domain ("es") and for a Serverless collection ("aoss", with its restrictions)."""

import pytest

from contracts.vector_index_contract import DIM, VectorIndexContract
from noticebot.adapters.aws.opensearch_index import OpenSearchVectorIndex
from opensearch_fake import FakeCluster


class TestOpenSearchDomainOnFakeCluster(VectorIndexContract):
    serverless = False

    @pytest.fixture
    def index(self):
        cluster = FakeCluster(serverless=self.serverless)
        idx = OpenSearchVectorIndex(cluster.client(), "noticebot-chunks", dimension=DIM,
                                    service="aoss" if self.serverless else "es")
        idx.cluster = cluster
        return idx


class TestOpenSearchServerlessOnFakeCluster(TestOpenSearchDomainOnFakeCluster):
    serverless = True
