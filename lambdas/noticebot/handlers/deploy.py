"""The fine-tune deploy Lambda: EventBridge "SageMaker Training Job State Change" events.

The stage's rule delivers this deployment's jobs (name prefix ``{prefix}-ft-``) reaching
Completed / Failed / Stopped. Locally the subprocess launcher builds the same event when
train.py exits and calls ``handle`` in process. The work (register the model version,
create the adapter inference component, activate by the loss rule) is
``ModelService.complete_training``; this module only reads the event.

Which job: the workspace and job id come from the job's tags (``noticebot:workspace``,
``noticebot:job``), and when an event carries no tags (EventBridge delivers them as an
empty map for some jobs) from the job name (``{prefix}{job_id}``) and the output path
(``tenants/{ws}/models/``). The service then checks the name against the stored job, so an
event cannot complete another workspace's job.

Errors propagate (Lambda's asynchronous retries, then the rule's dead-letter queue); a
deployment failure is recorded on the job by the service and is not an error here.
"""

from __future__ import annotations

import logging

from noticebot.domain.keys import workspace_of_models_path
from noticebot.domain.tuning import TrainingOutcome, TrainingState
from noticebot.handlers.lambda_container import lambda_container
from noticebot.handlers.lambda_logging import add_metric, lambda_entry
from noticebot.ports.training_launcher import JOB_TAG, WORKSPACE_TAG

logger = logging.getLogger(__name__)

DETAIL_TYPE = "SageMaker Training Job State Change"


def _tags(raw) -> dict[str, str]:
    if isinstance(raw, dict):
        return {str(k): str(v) for k, v in raw.items()}
    if isinstance(raw, list):  # DescribeTrainingJob / ListTags shape
        return {str(t.get("Key")): str(t.get("Value")) for t in raw if isinstance(t, dict)}
    return {}


def parse_training_event(event: dict, job_prefix: str) -> TrainingOutcome | None:
    """The outcome an event reports, or None when it is not one of this deployment's jobs."""
    if not isinstance(event, dict) or event.get("detail-type") != DETAIL_TYPE:
        return None
    detail = event.get("detail") or {}
    name = str(detail.get("TrainingJobName") or "")
    if not name.startswith(job_prefix):
        return None
    tags = _tags(detail.get("Tags"))
    artifact = (detail.get("ModelArtifacts") or {}).get("S3ModelArtifacts") or ""
    output = (detail.get("OutputDataConfig") or {}).get("S3OutputPath") or ""
    workspace = (tags.get(WORKSPACE_TAG) or workspace_of_models_path(output)
                 or workspace_of_models_path(artifact))
    job_id = tags.get(JOB_TAG) or name[len(job_prefix):]
    if not workspace or not job_id:
        return None
    metrics = {}
    for m in detail.get("FinalMetricDataList") or []:
        try:
            metrics[str(m["MetricName"])] = float(m["Value"])
        except (KeyError, TypeError, ValueError):
            continue
    state = TrainingState(status=str(detail.get("TrainingJobStatus") or ""),
                          stage=str(detail.get("SecondaryStatus") or ""), metrics=metrics,
                          artifact_uri=artifact, failure_reason=detail.get("FailureReason"))
    return TrainingOutcome(workspace_id=workspace, job_id=job_id, training_job_name=name,
                           state=state)


def handle(event: dict, container) -> dict:
    outcome = parse_training_event(event, container.settings.training_job_prefix)
    if outcome is None:
        logger.warning("ignored event: %s", str(event.get("detail-type") if isinstance(
            event, dict) else event)[:100])
        return {"status": "ignored"}
    result = container.models.complete_training(outcome)
    logger.info("training job %s (%s): %s", outcome.training_job_name, outcome.state.status,
                result)
    return result


@lambda_entry()
def handler(event: dict, context) -> dict:
    result = handle(event, lambda_container())
    status = str(result.get("status", ""))
    if status in ("completed", "failed", "stopped"):
        add_metric(f"FineTunes{status.title()}")
    return result
