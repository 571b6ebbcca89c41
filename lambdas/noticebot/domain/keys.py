"""The key layout of the data bucket (S3 in AWS, the blob folder locally).

    tenants/{ws}/raw/{doc_id}/{filename}               uploads (ingested)
    tenants/{ws}/datasets/{job}/{channel}/{channel}.jsonl   fine-tune datasets
    tenants/{ws}/models/{job name}/output/model.tar.gz      fine-tuned adapters (SageMaker)
    tenants/{ws}/models/{job name}/checkpoints/             spot training checkpoints
    tenants/{ws}/models/{model_id}/metrics.json             a registered adapter's metrics
    textract-staging/, transcripts/                    OCR and speech-to-text work files

The workspace is the second segment of every tenant key because that is what IAM policies
scope to (tenants/*/raw/*, ...): the services build every key from the caller's token with
these functions, and the CDK app grants and notifies on the same prefixes. Standard library
only: the CDK app imports it.
"""

from __future__ import annotations

TENANTS_PREFIX = "tenants/"
RAW = "raw"
DATASETS = "datasets"
MODELS = "models"
TEXTRACT_STAGING_PREFIX = "textract-staging/"  # multi-page scans Textract reads
TRANSCRIPTS_PREFIX = "transcripts/"  # Transcribe's JSON output


def objects_of_every_workspace(kind: str) -> str:
    """The IAM resource pattern of one kind (RAW, DATASETS, MODELS) across workspaces, which
    are created at run time: tenants/*/{kind}/*. The same string is the EventBridge wildcard
    pattern that selects uploads (and nothing else under tenants/) for ingestion: S3's own
    notification filters take a fixed prefix only, and the workspace comes before the kind."""
    return f"{TENANTS_PREFIX}*/{kind}/*"


UPLOAD_KEYS = objects_of_every_workspace(RAW)  # what ingestion is notified of


def transcription_job_prefix(bucket: str) -> str:
    """Transcribe job names of the deployment whose data bucket is ``bucket``.

    Transcribe jobs and their EventBridge events are account-wide, so the name must tell one
    stage's jobs from another's; the bucket name is per stage, per account and region, and
    every function that starts or resumes a job already knows it. The adapter names jobs with
    this prefix and the stage's rule and IAM grant match it."""
    return f"{bucket}-tx-"


def raw_prefix(workspace_id: str) -> str:
    return f"{TENANTS_PREFIX}{workspace_id}/{RAW}/"


def raw_key(workspace_id: str, document_id: str, filename: str) -> str:
    """Where an upload is stored; its folder holds nothing else of the document."""
    return f"{raw_prefix(workspace_id)}{document_id}/{filename}"


def workspace_of_raw_key(key: str) -> str | None:
    """The workspace of an upload's key (or of a prefix below tenants/{ws}/raw/); None for
    any other key."""
    parts = key.split("/")
    if len(parts) >= 4 and f"{parts[0]}/" == TENANTS_PREFIX and parts[2] == RAW:
        return parts[1]
    return None


def dataset_prefix(workspace_id: str, job_id: str) -> str:
    return f"{TENANTS_PREFIX}{workspace_id}/{DATASETS}/{job_id}/"


def dataset_key(workspace_id: str, job_id: str, channel: str) -> str:
    """One channel's file (train or validation): SageMaker mounts each {channel}/ folder."""
    return f"{dataset_prefix(workspace_id, job_id)}{channel}/{channel}.jsonl"


def models_prefix(workspace_id: str) -> str:
    return f"{TENANTS_PREFIX}{workspace_id}/{MODELS}/"


def checkpoints_prefix(workspace_id: str, job_name: str) -> str:
    return f"{models_prefix(workspace_id)}{job_name}/checkpoints/"


def model_metrics_key(workspace_id: str, model_id: str) -> str:
    return f"{models_prefix(workspace_id)}{model_id}/metrics.json"


def workspace_of_models_path(path: str) -> str | None:
    """The workspace in an output path or artifact URI under tenants/{ws}/models/."""
    parts = path.split("/")
    tenants = TENANTS_PREFIX.rstrip("/")
    for i in range(len(parts) - 2):
        if parts[i] == tenants and parts[i + 2] == MODELS and parts[i + 1]:
            return parts[i + 1]
    return None
