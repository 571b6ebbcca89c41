from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from noticebot import __version__

router = APIGatewayRouter()


@router.get("/health", summary="Liveness: no auth, no dependencies touched")
def health() -> dict:
    return {"status": "ok", "version": __version__}
