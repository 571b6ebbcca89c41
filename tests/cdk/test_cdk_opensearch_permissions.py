"""The search index's permissions, request by request.

The OpenSearch adapter's requests are recorded (against the in-memory cluster behind the real
opensearch-py client, as a domain and as a Serverless collection) and each one is looked up in
cdk/constructs/search.py's INDEX_REQUESTS table, then in the synthesized policies: the IAM
action for its verb on its path (domain: the identity policies and the domain access policy),
or its data access policy permission on the index or the collection (Serverless). The grants
are exactly what the requests need: nothing the adapter never sends (no DELETE: a role can
delete documents, never the index), nothing missing (the first PUT _index_template on a
collection needs aoss:CreateCollectionItems, which was missing and made prod indexing 403).
"""

from __future__ import annotations

import fnmatch
import json
import sys
from pathlib import Path

import pytest
from cdk_testlib import ROOT, as_list, render, resources

sys.path.insert(0, str(ROOT / "tests" / "unit" / "aws"))
from opensearch_fake import FakeCluster  # noqa: E402

from cdk.constructs.search import INDEX_REQUESTS  # noqa: E402

INDEX = "noticebot-chunks"


def recorded(serverless: bool, search_only: bool = False) -> set[tuple[str, str]]:
    from noticebot.adapters.aws.opensearch_index import OpenSearchVectorIndex
    from noticebot.domain.models import Chunk
    from noticebot.ports.vector_index import SearchQuery

    cluster = FakeCluster(serverless=serverless)
    index = OpenSearchVectorIndex(cluster.client(), INDEX,
                                  service="aoss" if serverless else "es", dimension=4)
    if not search_only:
        index.count("ws1")
        index.upsert("ws1", [Chunk(chunk_id=f"c{i}", document_id="d", ordinal=i, text="hello",
                                   vector=[1, 0, 0, i]) for i in range(3)])
        index.upsert("ws1", [Chunk(chunk_id="c1", document_id="d", ordinal=1, text="again",
                                   vector=[1, 0, 1, 0])])
    for mode in ("hybrid", "bm25", "dense"):
        index.search("ws1", SearchQuery(text="hello", vector=[1, 0, 0, 0], top_k=1, mode=mode,
                                        options={"candidates": 1}))
    if not search_only:
        index.chunks("ws1")
        index.count("ws1")
        index.delete_document("ws1", "d")
    return {(method, url.split("?")[0]) for method, url, *_ in cluster.requests}


def rows_for(call: tuple[str, str]):
    return [r for r in INDEX_REQUESTS if r.matches(*call, INDEX)]


@pytest.mark.parametrize("serverless", [False, True])
def test_every_request_the_adapter_sends_has_a_row(serverless):
    calls = recorded(serverless)
    assert calls
    mode = "aoss" if serverless else "es"
    missing = [c for c in calls if not [r for r in rows_for(c) if mode in r.modes]]
    assert not missing, f"requests with no permission row in INDEX_REQUESTS: {missing}"
    assert not any(method == "DELETE" for method, _ in calls)


def test_every_row_is_a_request_the_adapter_sends():
    calls = {"es": recorded(False), "aoss": recorded(True)}
    unused = [(r, mode) for r in INDEX_REQUESTS for mode in r.modes
              if not any(r.matches(*c, INDEX) for c in calls[mode])]
    assert not unused


def test_search_only_rows_cover_a_search_only_role():
    for serverless in (False, True):
        for call in recorded(serverless, search_only=True):
            assert any(r.search for r in rows_for(call)), call


# ---- domain (dev) ------------------------------------------------------------------------------
def granted(statements: list[dict], action: str, path: str) -> bool:
    """Whether an Allow statement grants ``action`` on the domain path (IAM wildcards)."""
    for s in statements:
        if s.get("Effect", "Allow") != "Allow" or action not in as_list(s["Action"]):
            continue
        for resource in as_list(s["Resource"]):
            text = render(resource)
            if ":domain/noticebot-dev/" not in text:
                continue
            pattern = text.split(":domain/noticebot-dev", 1)[1]
            if fnmatch.fnmatchcase(path, pattern):
                return True
    return False


def identity_statements(t, handler: str) -> list[dict]:
    (role,) = [f["Properties"]["Role"]["Fn::GetAtt"][0]
               for f in resources(t, "AWS::Lambda::Function").values()
               if f["Properties"]["Handler"] == handler]
    return [s for p in resources(t, "AWS::IAM::Policy").values()
            if {"Ref": role} in p["Properties"]["Roles"]
            for s in p["Properties"]["PolicyDocument"]["Statement"]]


@pytest.mark.parametrize("handler, search_only", [
    ("noticebot.handlers.api.app.handler", False),
    ("noticebot.handlers.ingest.handler", False),
    ("noticebot.handlers.transcription.handler", False),
    ("noticebot.handlers.chat_function.handler", True),
])
def test_domain_grants_each_request_of_each_role_and_nothing_more(dev, handler, search_only):
    identity = identity_statements(dev, handler)
    (domain,) = resources(dev, "AWS::OpenSearchService::Domain").values()
    access = domain["Properties"]["AccessPolicies"]["Statement"]
    needed = {(f"es:ESHttp{method.title()}", path)
              for method, path in recorded(False, search_only)}
    for action, path in needed:
        assert granted(identity, action, path), (handler, action, path)
        assert granted(access, action, path), (handler, action, path)
    # Nothing beyond: no DELETE (the index itself), no GET, no verb on a path the role does not
    # send it to.
    es = [s for s in identity if any(a.startswith("es:") for a in as_list(s["Action"]))]
    assert es
    for s in es:
        for action in as_list(s["Action"]):
            assert action not in ("es:ESHttpDelete", "es:ESHttpGet"), (handler, action)
            for resource in as_list(s["Resource"]):
                pattern = render(resource).split(":domain/noticebot-dev", 1)[1]
                assert any(a == action and fnmatch.fnmatchcase(p, pattern)
                           for a, p in needed), (handler, action, pattern)


def test_no_role_may_drop_the_index(dev):
    for policy in resources(dev, "AWS::IAM::Policy").values():
        assert "es:ESHttpDelete" not in json.dumps(policy)
    (domain,) = resources(dev, "AWS::OpenSearchService::Domain").values()
    assert "ESHttpDelete" not in json.dumps(domain["Properties"]["AccessPolicies"])


# ---- serverless (prod) -------------------------------------------------------------------------
def data_access_rules(prod) -> list[dict]:
    (policy,) = resources(prod, "AWS::OpenSearchServerless::AccessPolicy").values()
    joined = policy["Properties"]["Policy"]
    parts = joined["Fn::Join"][1] if isinstance(joined, dict) else [joined]
    text = "".join(p if isinstance(p, str) else "ROLE" for p in parts)
    return json.loads(text)


def test_serverless_grants_each_request_and_nothing_more(prod):
    rules_by_kind: dict[str, set[str]] = {}
    writers, searchers = data_access_rules(prod)
    for rule in writers["Rules"]:
        assert rule["Resource"] == {"index": [f"index/noticebot-prod/{INDEX}*"],
                                    "collection": ["collection/noticebot-prod"]}[
            rule["ResourceType"]]
        rules_by_kind[rule["ResourceType"]] = set(rule["Permission"])
    needed: dict[str, set[str]] = {}
    for call in recorded(True):
        for row in rows_for(call):
            if "aoss" in row.modes:
                needed.setdefault(row.aoss_on, set()).add(row.aoss_permission)
    # The template needs the collection-level permissions (create, then replace).
    assert {"aoss:CreateCollectionItems", "aoss:UpdateCollectionItems"} <= needed["collection"]
    assert rules_by_kind == needed
    assert "aoss:DeleteIndex" not in json.dumps(writers)
    # The chat function reads documents of the index, nothing else.
    (search_rule,) = searchers["Rules"]
    assert search_rule == {"ResourceType": "index", "Resource": [f"index/noticebot-prod/{INDEX}*"],
                           "Permission": ["aoss:ReadDocument"]}
