"""A payload read by the model contract, its faults raised as the server's 400."""

from __future__ import annotations

from noticebot import model_contract
from noticebot.domain.errors import InvalidRequest
from noticebot.model_contract import GenerationRequest


def read_request(body: bytes, default_seed: int) -> GenerationRequest:
    try:
        return model_contract.parse_request(body, default_seed)
    except model_contract.RequestError as exc:
        raise InvalidRequest(str(exc)) from exc
