from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from noticebot.handlers.api.identity import principal_from_event
from noticebot.handlers.api.request_container import request_container
from noticebot.handlers.api.responses import BY_ID, SIGNED_IN, USES_MODEL, WITH_BODY, declare
from noticebot.handlers.api.schemas_tuning import (
    FineTuneIn,
    FineTuneJobList,
    FineTuneJobOut,
    FineTuneStarted,
)

router = APIGatewayRouter()


def _principal():
    return principal_from_event(router.current_event.raw_event)


@router.post("/fine-tune", summary="Fine-tune the workspace's model on its data (editors)",
             status_code=202,
             responses=declare(202, "Dataset built; training started", SIGNED_IN, WITH_BODY,
                               409, USES_MODEL))
def start_fine_tune(request: FineTuneIn) -> FineTuneStarted:
    params = request.parameters.model_dump(exclude_none=True)
    job = request_container(router).finetune.start(_principal(), params)
    return FineTuneStarted(job_id=job.job_id, status=job.status.value, dataset=job.dataset)


@router.get("/fine-tune", summary="The workspace's fine-tune jobs, newest first",
            responses=declare(200, "The jobs", SIGNED_IN))
def list_fine_tunes() -> FineTuneJobList:
    jobs = request_container(router).finetune.list(_principal())
    return FineTuneJobList(jobs=[FineTuneJobOut.of(j) for j in jobs])


@router.get("/fine-tune/<job_id>", summary="A fine-tune job: status, progress, metrics",
            responses=declare(200, "The job", SIGNED_IN, BY_ID))
def get_fine_tune(job_id: str) -> FineTuneJobOut:
    return FineTuneJobOut.of(request_container(router).finetune.get(_principal(), job_id))
