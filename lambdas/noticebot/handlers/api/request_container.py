"""The container serving the current request, as the routes read it.

``app.handle`` puts it in the resolver's per-request context, so two requests resolved at once
on the local server's threads each see their own, and no module keeps one globally.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.router import APIGatewayRouter

    from noticebot.container import Container

CONTAINER = "container"


def request_container(router: APIGatewayRouter) -> Container:
    return router.context[CONTAINER]
