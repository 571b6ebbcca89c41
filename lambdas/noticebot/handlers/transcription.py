"""The transcription-completed Lambda: EventBridge "Transcribe Job State Change" events.

Amazon Transcribe jobs are started by the ingest function for audio uploads (see
``adapters/aws/transcribe.py``); this function resumes ingestion when one ends. Errors
propagate so that Lambda's asynchronous retries (and then the function's on-failure
destination) get the event; a document whose transcript could not be indexed is marked failed
by the service before the error is raised.
"""

from __future__ import annotations

import logging

from noticebot.adapters.aws.transcribe import parse_job_state_change
from noticebot.domain.keys import transcription_job_prefix
from noticebot.handlers.lambda_container import lambda_container
from noticebot.handlers.lambda_logging import add_metric, lambda_entry

logger = logging.getLogger(__name__)


def _ours(job_name: str, container) -> bool:
    """A job this deployment started (the rule already filters; a replayed or hand-sent event
    of another stage's job must not touch this stage's documents)."""
    jobs = getattr(container.ingest, "transcription_jobs", None)
    owns = getattr(jobs, "owns", None)
    if owns is not None:
        return owns(job_name)
    if jobs is not None:  # any engine: its names are a prefix and the document id
        prefix = jobs.job_name("")
        return job_name.startswith(prefix) and len(job_name) > len(prefix)
    return job_name.startswith(transcription_job_prefix(container.settings.bucket))


def handle(event: dict, container) -> dict:
    change = parse_job_state_change(event)
    if change is None:
        logger.warning("not a Transcribe job state change event: %s",
                       str(event.get("detail-type") if isinstance(event, dict) else event)[:100])
        return {"status": "ignored"}
    if not _ours(change.job_name, container):
        logger.info("ignored Transcribe job %s (not this deployment's)", change.job_name)
        return {"job": change.job_name, "status": "ignored"}
    status = container.ingest.resume_transcription(change.job_name)
    logger.info("Transcribe job %s %s: document %s", change.job_name, change.status,
                status.value if status else "ignored")
    return {"job": change.job_name, "status": status.value if status else "ignored"}


@lambda_entry()
def handler(event: dict, context) -> dict:
    result = handle(event, lambda_container())
    if result.get("status") != "ignored":
        add_metric("TranscriptionsResumed")
    return result
