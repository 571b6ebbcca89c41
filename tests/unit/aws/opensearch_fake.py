"""A hand-written, in-memory stand-in for an OpenSearch cluster, behind the real opensearch-py
client (it replaces only the HTTP connection, so URLs, params and NDJSON are the real ones).

It understands exactly the query DSL subset the adapter is meant to send (bool / match /
knn with an efficient filter / term / terms / range / exists) and fails the test on
anything else, so it doubles as a check that bodies keep to the documented API. It also
enforces the tenancy rule on every request: a search, count or delete whose query has no
``workspace_id`` term in a filter position is refused. ``serverless=True`` adds the
Serverless restrictions the adapter must respect (no custom ``_id``, no ``refresh``).

``_bulk`` and ``_msearch`` behave as on a domain with ``rest.action.multi.allow_explicit_index:
false``: only the index-scoped paths (``/<index>/_bulk``, ``/<index>/_msearch``) work, they
route by the path's index, and an action or header line naming an index fails the request.

Scoring follows OpenSearch's definitions: BM25 (k1 1.2, b 0.75, Lucene's idf) on the
``search_text`` field that ``copy_to`` fills from text/title/heading, and faiss'
innerproduct score (1 + ip, or 1 / (1 - ip) below zero). Analysis is a rough English
analyzer (lowercase, stop words, plural ``s``): enough for the contract's texts.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from datetime import datetime

from opensearchpy import Connection, OpenSearch

_STOP = {"a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is",
         "it", "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there",
         "these", "they", "this", "to", "was", "will", "with"}


def analyze(text: str) -> list[str]:
    out = []
    for word in re.findall(r"[a-z0-9]+", (text or "").lower()):
        if word in _STOP:
            continue
        out.append(word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss")
                   else word)
    return out


def ndjson(body) -> list[dict]:
    text = body.decode() if isinstance(body, bytes) else body
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _illegal(reason: str) -> dict:
    return {"error": {"type": "illegal_argument_exception", "reason": reason}, "status": 400}


def has_workspace_filter(query: dict) -> bool:
    """The workspace term sits in a bool filter, or in a knn clause's filter."""
    if "knn" in query:
        (spec,) = query["knn"].values()
        return has_workspace_filter(spec.get("filter") or {})
    filters = (query.get("bool") or {}).get("filter") or []
    return any("term" in f and "workspace_id" in f["term"] for f in filters)


class FakeCluster:
    def __init__(self, serverless: bool = False):
        self.serverless = serverless
        self.indices: dict[str, dict] = {}
        self.templates: dict[str, dict] = {}
        self.requests: list[tuple[str, str, dict, object]] = []
        self._ids = itertools.count(1)

    def client(self) -> OpenSearch:
        cluster = self

        class FakeConnection(Connection):
            def perform_request(self, method, url, params=None, body=None, timeout=None,
                                ignore=(), headers=None):
                status, payload = cluster.handle(method, url, dict(params or {}), body)
                raw = json.dumps(payload)
                if not 200 <= status < 300 and status not in ignore:
                    self._raise_error(status, raw, "application/json")
                return status, {"content-type": "application/json"}, raw

        return OpenSearch(hosts=[{"host": "search.test", "port": 443}], use_ssl=True,
                          connection_class=FakeConnection, max_retries=0)

    def bodies(self, suffix: str) -> list[dict]:
        """Decoded bodies of the requests whose path ends with ``suffix``."""
        out = []
        for _, path, _, body in self.requests:
            if path.endswith(suffix):
                out += ndjson(body) if suffix in ("_bulk", "_msearch") else [json.loads(body)]
        return out

    # ------------------------------------------------------------ routing
    def handle(self, method, url, params, body):
        path = url.split("?")[0]
        params = {k: v.decode() if isinstance(v, bytes) else str(v) for k, v in params.items()}
        body = body.decode() if isinstance(body, bytes) else body
        self.requests.append((method, path, params, body))
        if self.serverless and "refresh" in params:
            return 400, {"error": {"type": "illegal_argument_exception",
                                   "reason": "refresh is not supported"}}
        parts = [p for p in path.split("/") if p]
        if parts[0] == "_index_template":
            if method == "DELETE":
                return (200, {}) if self.templates.pop(parts[1], None) else (404, {})
            self.templates[parts[1]] = json.loads(body)
            return 200, {"acknowledged": True}
        if parts[-1] in ("_bulk", "_msearch"):
            return self._multi(parts, ndjson(body))
        name = parts[0]
        if len(parts) == 1:
            if method == "HEAD":
                return (200 if name in self.indices else 404), {}
            if method == "DELETE":
                return (200, {}) if self.indices.pop(name, None) else (404, {})
            if name in self.indices:
                return 400, {"error": {"type": "resource_already_exists_exception"}}
            self.indices[name] = {"mapping": json.loads(body), "docs": {}}
            return 200, {"acknowledged": True}
        if name not in self.indices:
            return 404, {"error": {"type": "index_not_found_exception", "reason": name}}
        if parts[1] == "_refresh":
            return 200, {}
        request = json.loads(body) if body else {}
        if parts[1] == "_search":
            return 200, self._search(name, request)
        assert has_workspace_filter(request["query"]), f"unscoped {parts[1]}: {request}"
        matching = [i for i, d in self.indices[name]["docs"].items()
                    if self._matches(d, request["query"])]
        if parts[1] == "_count":
            return 200, {"count": len(matching)}
        if parts[1] == "_delete_by_query":
            for i in matching:
                del self.indices[name]["docs"][i]
            return 200, {"deleted": len(matching)}
        raise AssertionError(f"unexpected request {method} {url}")

    def _multi(self, parts: list[str], lines: list[dict]):
        """``_bulk`` / ``_msearch`` with allow_explicit_index=false."""
        api = parts[-1]
        if len(parts) != 2:  # the root path: every line would need an explicit index
            return 400, _illegal(f"{api} needs the index in the path "
                                 "(rest.action.multi.allow_explicit_index is false)")
        name = parts[0]
        if api == "_bulk":
            actions = [next(iter(a.values())) for a in self._bulk_actions(lines)]
            if any("_index" in meta for meta in actions):
                return 400, _illegal("explicit index in bulk is not allowed")
            return 200, self._bulk(name, lines)
        headers, bodies = lines[::2], lines[1::2]
        assert len(headers) == len(bodies), "msearch lines come in header/body pairs"
        if any("index" in h for h in headers):
            return 400, _illegal("explicit index in multi search is not allowed")
        return 200, {"responses": [self._search(name, b) for b in bodies]}

    @staticmethod
    def _bulk_actions(lines: list[dict]) -> list[dict]:
        actions, rest = [], iter(lines)
        for action in rest:
            actions.append(action)
            if "delete" not in action:
                next(rest)  # the source line
        return actions

    def _bulk(self, name: str, lines: list[dict]) -> dict:
        items, lines = [], iter(lines)
        for action in lines:
            (op, meta), = action.items()
            assert op in ("index", "delete"), op
            source = next(lines) if op == "index" else None
            docs = self.indices.get(name, {}).get("docs")
            if docs is None:
                items.append({op: {"status": 404, "error": {"type": "index_not_found_exception"}}})
                continue
            if op == "delete":
                found = docs.pop(meta["_id"], None)
                items.append({op: {"status": 200 if found else 404}})
                continue
            if self.serverless and "_id" in meta:
                items.append({op: {"status": 400, "error": {
                    "type": "illegal_argument_exception",
                    "reason": "Document ID is not supported in create/index operation request"}}})
                continue
            doc_id = meta.get("_id") or f"auto-{next(self._ids)}"
            docs[doc_id] = {**source, "_id": doc_id}
            items.append({op: {"status": 201, "_id": doc_id}})
        return {"errors": any(i[next(iter(i))].get("error") for i in items), "items": items}

    # ------------------------------------------------------------ search
    def _search(self, name: str, request: dict) -> dict:
        if name not in self.indices:
            return {"error": {"type": "index_not_found_exception", "reason": name}, "status": 404}
        query = request["query"]
        assert has_workspace_filter(query), f"unscoped search: {request}"
        docs = list(self.indices[name]["docs"].values())
        if "knn" in query:
            scored = self._knn(docs, query["knn"])
        else:
            scored = [(self._score(docs, d, query), d) for d in docs if self._matches(d, query)]
        scored.sort(key=lambda pair: -pair[0])
        for spec in reversed(request.get("sort", [])):  # stable: the last key sorts first
            (field, order), = spec.items()
            scored.sort(key=lambda pair: pair[1].get(field), reverse=order == "desc")
        source = request.get("_source", True)
        hits = [{"_id": d["_id"], "_score": s,
                 **({"_source": self._source(d, source)} if source is not False else {})}
                for s, d in scored[:request.get("size", 10)]]
        return {"hits": {"hits": hits}, "status": 200}

    @staticmethod
    def _source(doc: dict, spec) -> dict:
        excludes = set(spec.get("excludes", [])) if isinstance(spec, dict) else set()
        return {k: v for k, v in doc.items() if k != "_id" and k not in excludes}

    def _knn(self, docs, clause):
        (field, spec), = clause.items()
        assert set(spec) <= {"vector", "k", "filter"}, spec
        q = [float(x) for x in spec["vector"]]
        pool = [d for d in docs if self._matches(d, spec.get("filter") or {"match_all": {}})]
        scored = []
        for d in pool:
            assert len(d[field]) == len(q), "query and document vectors differ in dimension"
            ip = math.fsum(a * b for a, b in zip(q, d[field]))
            scored.append((ip + 1.0 if ip >= 0 else 1.0 / (1.0 - ip), d))
        scored.sort(key=lambda pair: -pair[0])
        return scored[:spec["k"]]

    def _matches(self, doc: dict, query: dict) -> bool:
        (kind, spec), = query.items()
        if kind == "match_all":
            return True
        if kind == "bool":
            assert set(spec) <= {"must", "filter", "should", "must_not", "minimum_should_match"}
            if not all(self._matches(doc, c) for c in spec.get("must", []) + spec.get("filter", [])):
                return False
            if any(self._matches(doc, c) for c in spec.get("must_not", [])):
                return False
            should = spec.get("should", [])
            need = spec.get("minimum_should_match", 0 if spec.get("must") or spec.get("filter") else 1)
            return sum(self._matches(doc, c) for c in should) >= (need if should else 0)
        if kind == "term":
            (field, value), = spec.items()
            return doc.get(field) == value
        if kind == "terms":
            (field, values), = spec.items()
            return doc.get(field) in values
        if kind == "exists":
            return doc.get(spec["field"]) is not None
        if kind == "range":
            (field, bounds), = spec.items()
            assert set(bounds) == {"gt"}, bounds
            value = doc.get(field)
            return value is not None and datetime.fromisoformat(value) > datetime.fromisoformat(
                bounds["gt"])
        if kind == "match":
            (field, spec), = spec.items()
            assert field == "search_text", field
            return bool(set(analyze(spec["query"])) & set(self._terms(doc)))
        raise AssertionError(f"query clause outside the adapter's DSL: {kind}")

    @staticmethod
    def _terms(doc: dict) -> list[str]:
        return analyze(" ".join(doc.get(f) or "" for f in ("text", "title", "heading")))

    def _score(self, docs, doc, query) -> float:
        must = (query.get("bool") or {}).get("must") or []
        if not must:
            return 0.0
        (field, spec), = must[0]["match"].items()
        lengths = [len(self._terms(d)) for d in docs]
        avg = sum(lengths) / max(len(lengths), 1)
        terms = self._terms(doc)
        score = 0.0
        for term in set(analyze(spec["query"])):
            tf = terms.count(term)
            if not tf:
                continue
            df = sum(term in self._terms(d) for d in docs)
            idf = math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
            score += idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * len(terms) / avg))
        return score
