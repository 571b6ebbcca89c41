"""The API's resolver, with each request's state kept to that request.

Powertools keeps the event being resolved in class attributes (``BaseRouter.current_event``,
read by every router) and the matched route and its arguments in the resolver's ``context``
dict. That is right for Lambda, where a container handles one event at a time. The local
server resolves many requests at once on threads, and there they would read each other's
events: a request would run as another caller. This resolver keeps that state in a
ContextVar holding a fresh record per request, as Powertools' own ``HttpResolverLocal`` does
for ASGI, so the same handler is safe in both places.

Each route also builds its middleware stack lazily on its first call, and two first calls at
once could wrap the stack twice; the build is done once, under a lock.
"""

from __future__ import annotations

import threading
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver


@dataclass
class _RequestState:
    event: Any = None
    lambda_context: Any = None
    context: dict = field(default_factory=dict)
    processed_stack_frames: list = field(default_factory=list)


def _per_request(name: str) -> property:
    """An attribute of the resolver kept in the current request's record."""
    return property(lambda self: getattr(self._state, name),
                    lambda self, value: setattr(self._state, name, value))


class RequestScopedRestResolver(APIGatewayRestResolver):
    def __init__(self, *args, **kwargs):
        # What routers add before any request (include_router merges router contexts).
        self._startup_state = _RequestState()
        self._request_state: ContextVar[_RequestState | None] = ContextVar(
            "noticebot_api_request", default=None)
        self._stack_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    @property
    def _state(self) -> _RequestState:
        return self._request_state.get() or self._startup_state

    # Powertools declares these as plain attributes; properties keep that interface while
    # sending each request to its own record.
    current_event = _per_request("event")
    lambda_context = _per_request("lambda_context")
    context = _per_request("context")
    processed_stack_frames = _per_request("processed_stack_frames")

    def resolve(self, event, context, *, request_context: dict | None = None) -> dict:
        """``request_context``: what this request's routes read from ``router.context``
        besides what the routers declared (the container that serves it)."""
        state = _RequestState(context={**self._startup_state.context,
                                       **(request_context or {})})
        token = self._request_state.set(state)
        try:
            # The parent also sets BaseRouter's class attributes; every read of the event goes
            # through the properties above, so those shared copies are never used.
            state.event = self._to_proxy_event(dict(getattr(event, "raw_event", event)))
            state.lambda_context = context
            return super().resolve(event, context)
        finally:
            self._request_state.reset(token)

    @staticmethod
    def _compile_regex(rule: str, base_regex: str = ""):
        # Anchored with \Z: "$" also matches before a final newline, so "/api/fine-tune/\n"
        # would reach the job list.
        return ApiGatewayResolver._compile_regex(rule, "^{}/*\\Z")

    def _call_route(self, route, route_arguments):
        if not route._middleware_stack_built:
            with self._stack_lock:
                if not route._middleware_stack_built:
                    route._build_middleware_stack(router_middlewares=self._router_middlewares,
                                                  app=self)
        return super()._call_route(route, route_arguments)
