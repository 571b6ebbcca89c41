from __future__ import annotations

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from noticebot.handlers.api.identity import principal_from_event
from noticebot.handlers.api.schemas_tuning import (
    FineTuneIn,
    FineTuneJobList,
    FineTuneJobOut,
    FineTuneStarted,
)
from noticebot.handlers.runtime import get_container

router = APIGatewayRouter()


def _principal():
    return principal_from_event(router.current_event.raw_event)


@router.post("/fine-tune", summary="Fine-tune the workspace's model on its data (editors)",
             responses={202: {"description": "Dataset built; training started"}})
def start_fine_tune(request: FineTuneIn) -> Response[FineTuneStarted]:
    params = request.parameters.model_dump(exclude_none=True)
    job = get_container().finetune.start(_principal(), params)
    body = FineTuneStarted(job_id=job.job_id, status=job.status.value, dataset=job.dataset)
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON,
                    body=body.model_dump())


@router.get("/fine-tune", summary="The workspace's fine-tune jobs, newest first")
def list_fine_tunes() -> FineTuneJobList:
    jobs = get_container().finetune.list(_principal())
    return FineTuneJobList(jobs=[FineTuneJobOut.of(j) for j in jobs])


@router.get("/fine-tune/<job_id>", summary="A fine-tune job: status, progress, metrics")
def get_fine_tune(job_id: str) -> FineTuneJobOut:
    return FineTuneJobOut.of(get_container().finetune.get(_principal(), job_id))
