"""The transcription-completed Lambda: EventBridge "Transcribe Job State Change" events.

Amazon Transcribe jobs are started by the ingest function for audio uploads (see
``adapters/aws/transcribe.py``); this function resumes ingestion when one ends. Errors
propagate so that Lambda's asynchronous retries (and then the function's on-failure
destination) get the event; a document whose transcript could not be indexed is marked failed
by the service before the error is raised.
"""

from __future__ import annotations

import logging

from noticebot.adapters.aws.transcribe import JOB_PREFIX, parse_job_state_change
from noticebot.handlers.lambda_container import lambda_container

logger = logging.getLogger(__name__)


def handle(event: dict, container) -> dict:
    change = parse_job_state_change(event)
    if change is None:
        logger.warning("not a Transcribe job state change event: %s",
                       str(event.get("detail-type") if isinstance(event, dict) else event)[:100])
        return {"status": "ignored"}
    if not change.job_name.startswith(JOB_PREFIX):
        return {"job": change.job_name, "status": "ignored"}  # another application's job
    status = container.ingest.resume_transcription(change.job_name)
    return {"job": change.job_name, "status": status.value if status else "ignored"}


def handler(event: dict, context) -> dict:
    return handle(event, lambda_container())
