"""Two requests in flight at once in one process each see their own event.

Both requests are held inside the route at a barrier, so each has been resolved before either
reads its event: exactly the overlap a threaded server produces.
"""

from __future__ import annotations

import json
import threading

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from apiclient import TEMPLATE, claims_for
from noticebot.handlers.api.resolver import RequestScopedRestResolver


def build_app(resolver_class):
    app = resolver_class(enable_validation=True)
    router = APIGatewayRouter()
    barrier = threading.Barrier(2, timeout=5)

    @router.get("/whoami/<label>")
    def whoami(label: str):
        barrier.wait()  # both requests are now inside a route
        claims = router.current_event.request_context.authorizer.claims
        return {"label": label, "sub": claims["sub"], "path": router.current_event.path}

    app.include_router(router, prefix="/api")
    return app


def event_for(user: str, label: str) -> dict:
    event = json.loads(json.dumps(TEMPLATE))
    event.update(httpMethod="GET", path=f"/api/whoami/{label}", resource="/{proxy+}", body=None,
                 isBase64Encoded=False, pathParameters={"proxy": f"api/whoami/{label}"},
                 queryStringParameters=None, multiValueQueryStringParameters=None)
    event["requestContext"].update(httpMethod="GET", path=f"/api/whoami/{label}")
    event["requestContext"]["authorizer"] = {"claims": claims_for(user, "ws1")}
    return event


def resolve_both(app) -> dict[str, dict]:
    results: dict[str, dict] = {}

    def call(user, label):
        out = app.resolve(event_for(user, label), None)
        results[user] = json.loads(out["body"])

    threads = [threading.Thread(target=call, args=(u, lab)) for u, lab in
               (("alice", "a"), ("bob", "b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return results


def test_each_request_reads_its_own_event():
    results = resolve_both(build_app(RequestScopedRestResolver))
    assert results == {"alice": {"label": "a", "sub": "alice", "path": "/api/whoami/a"},
                       "bob": {"label": "b", "sub": "bob", "path": "/api/whoami/b"}}


def test_the_stock_resolver_shares_one_event_between_requests():
    """Why RequestScopedRestResolver exists: Powertools keeps the current event on a class
    attribute, so the first request reads the second caller's identity. When this fails, the
    library has fixed it and the subclass may go."""
    results = resolve_both(build_app(APIGatewayRestResolver))
    subs = {user: r["sub"] for user, r in results.items()}
    assert subs["alice"] == subs["bob"]  # one of them ran as the other caller


def test_state_of_a_request_does_not_outlive_it():
    app = build_app(RequestScopedRestResolver)
    threading.Thread(target=lambda: app.resolve(event_for("alice", "a"), None)).start()
    app.resolve(event_for("bob", "b"), None)
    assert app.current_event is None
    assert app.context == {}


def test_each_request_reads_its_own_request_context():
    """How the API hands a request its container: two requests resolved at once with
    different contexts each read their own, and neither outlives its request."""
    app = RequestScopedRestResolver(enable_validation=True)
    router = APIGatewayRouter()
    barrier = threading.Barrier(2, timeout=5)

    @router.get("/served-by/<label>")
    def served_by(label: str):
        barrier.wait()  # both requests are now inside a route
        return {"label": label, "served_by": router.context["served_by"]}

    app.include_router(router, prefix="/api")
    results: dict[str, dict] = {}

    def call(label, server):
        event = event_for(label, label)
        event.update(path=f"/api/served-by/{label}",
                     pathParameters={"proxy": f"api/served-by/{label}"})
        event["requestContext"]["path"] = f"/api/served-by/{label}"
        out = app.resolve(event, None, request_context={"served_by": server})
        results[label] = json.loads(out["body"])

    threads = [threading.Thread(target=call, args=args)
               for args in (("a", "container-a"), ("b", "container-b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results == {"a": {"label": "a", "served_by": "container-a"},
                       "b": {"label": "b", "served_by": "container-b"}}
    assert "served_by" not in app.context
