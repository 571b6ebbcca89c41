from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from noticebot import __version__
from noticebot.handlers.api.responses import declare

router = APIGatewayRouter()


@router.get("/health", summary="Liveness: no auth, no dependencies touched",
            responses=declare(200, "Alive"))
def health() -> dict:
    return {"status": "ok", "version": __version__}
