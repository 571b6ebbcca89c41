from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from noticebot.handlers.api.identity import principal_from_event
from noticebot.handlers.api.request_container import request_container
from noticebot.handlers.api.responses import BY_ID, SIGNED_IN, WITH_BODY, declare
from noticebot.handlers.api.schemas_tuning import ActivateIn, ModelList, ModelOut, base_model_out

router = APIGatewayRouter()


def _principal():
    return principal_from_event(router.current_event.raw_event)


@router.get("/models", summary="The workspace's model versions and which one is active",
            responses=declare(200, "The versions", SIGNED_IN))
def list_models() -> ModelList:
    container = request_container(router)
    versions, active_id = container.models.list(_principal())
    return ModelList(models=[ModelOut.of(v, active_id) for v in versions],
                     active_model_id=active_id, base_model=container.chat_model.model_id)


@router.post("/models/<model_id>/activate",
             summary="Make a model version the workspace's model (roll forward or back; "
                     "'base' = the base model) (editors)",
             responses=declare(200, "The version now active", SIGNED_IN, WITH_BODY, BY_ID, 409))
def activate_model(model_id: str, request: ActivateIn = None) -> ModelOut:  # body optional
    container = request_container(router)
    version = container.models.activate(_principal(), model_id)
    if version is None:
        return base_model_out(container.chat_model.model_id)
    return ModelOut.of(version, version.model_id)
