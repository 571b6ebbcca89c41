"""Signing in and out. Password sign-in is the local accounts' (on AWS the app signs in with
Cognito and this answers 404); sign-out works with either provider's tokens."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from noticebot.handlers.api.identity import claims_from_event, principal_from_event
from noticebot.handlers.api.request_container import request_container
from noticebot.handlers.api.responses import SIGNED_IN, WITH_BODY, declare, throttled
from noticebot.handlers.api.schemas_members import SessionOut, SignInIn

router = APIGatewayRouter()

THROTTLED = throttled("Too many failed attempts from this account or address; wait as long "
                      "as Retry-After says")


def client_address(router) -> str:
    """The caller's address as API Gateway (or the local gateway) saw it: the throttles' key."""
    identity = (router.current_event.raw_event.get("requestContext") or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "")


@router.post("/auth/sign-in",
             summary="Sign in with e-mail and password (no token; local accounts)",
             responses={**declare(200, "Signed in: a token with the claims Cognito would "
                                       "issue", WITH_BODY, 401, 403, 404), **THROTTLED})
def sign_in(credentials: SignInIn) -> SessionOut:
    signed_in = request_container(router).accounts.sign_in(
        credentials.email, credentials.password, client_address(router))
    return SessionOut.of(signed_in)


@router.post("/auth/sign-out",
             summary="Sign out: this token, and every earlier one of yours, is refused from now",
             status_code=204,
             responses=declare(204, "Signed out", SIGNED_IN, 409, 503, no_content=True))
def sign_out():
    event = router.current_event.raw_event
    request_container(router).accounts.sign_out(principal_from_event(event),
                                                claims_from_event(event) or {})
    return Response(status_code=204, content_type=None, body="")
