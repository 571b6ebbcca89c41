"""Settings read once from the environment. Nothing here touches the network or disk.

The variables' names are noticebot.environment's, which the CDK app sets."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from noticebot.domain.ingest_budget import IngestBudget
from noticebot.environment import EnvVar


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    mode: str = "local"  # "local" (embedded default) or "aws"
    data_dir: Path = Path(".noticebot")
    # API Gateway caps a synchronous payload at 10 MB and Lambda at 6 MB; base64 costs a third,
    # so direct multipart uploads stay well under; larger files use presigned uploads.
    max_upload_bytes: int = 4 * 1024 * 1024
    max_query_chars: int = 2000
    chunk_max_tokens: int = 200
    chunk_overlap_tokens: int = 40
    search_top_k: int = 5
    chat_top_k: int = 4
    chat_max_new_tokens: int = 200
    history_turns: int = 4
    # The cross-encoder logit the best evidence must reach to be answered from; below it the
    # chat says the notices and documents do not have it (calibrated in bench/report.md).
    min_evidence_score: float | None = 0.5
    # One ingest attempt's time budget (the ingest function's timeout on AWS): how long an
    # attempt holds its document before another delivery may take it over.
    ingest_timeout_s: int = 300
    # Deliveries of an ingest message before it is dead-lettered (the queue's maxReceiveCount);
    # a failure on the last one fails the document.
    ingest_max_receives: int = 3
    # aws mode (set by the CDK stacks; see noticebot.bootstrap_aws). Empty = not configured.
    aws_region: str = ""
    bucket: str = ""
    kms_key_id: str = ""  # SSE-KMS key for uploads; empty = SSE-S3
    table: str = ""
    search_endpoint: str = ""  # https host of the OpenSearch domain or Serverless collection
    search_service: str = "es"  # "es" (managed domain) or "aoss" (Serverless), the SigV4 name
    search_index: str = "noticebot-chunks"
    chat_endpoint: str = ""  # SageMaker endpoint name
    chat_component: str = ""  # base model's inference component on it (optional)
    embed_model_dir: str = ""  # ONNX embedder files in the bundle; empty = the installed package
    # aws: the embedder function (name or ARN) that turns text into vectors; empty = embed in
    # process (the ingest function, whose bundle carries the model).
    embed_function: str = ""
    presigned_max_bytes: int = 100 * 1024 * 1024  # presigned uploads go straight to S3
    upload_url_ttl_s: int = 900
    conversation_ttl_days: int = 90
    # members: how long an invitation stays open (at most the Cognito pool's temporary
    # password validity, 7 days), and how long a local sign-in's token lives
    invitation_ttl_days: int = 7
    session_ttl_s: int = 12 * 3600
    user_pool_id: str = ""  # aws: the Cognito user pool invitations create users in
    # pushes: the push service's URL (local: empty = record to <data>/push-outbox.jsonl only;
    # aws: empty = Expo's), the notify queue (aws), the Expo access token's secret (aws)
    push_url: str = ""
    notify_queue_url: str = ""
    push_token_secret: str = ""
    # fine-tuning (issue 6). Local: train.py runs as a subprocess; aws: SageMaker training jobs.
    base_model: str = ""  # model_name_or_path for train.py; "" = train.py's own default
    training_chat_template: str = ""  # "llama3" / "chatml"; "" = train.py's default (llama3)
    train_script: str = ""  # local: path of train.py; "" = <repo>/sagemaker/training/train.py
    training_job_prefix: str = "noticebot-ft-"  # the EventBridge rule matches this prefix
    training_role_arn: str = ""
    training_image: str = ""  # full image URI; "" = the regional PyTorch training DLC
    training_image_tag: str = "2.6.0-gpu-py312-cu126-ubuntu22.04-sagemaker"
    training_instance_type: str = "ml.g5.2xlarge"
    training_source: str = ""  # s3://.../sourcedir.tar.gz holding train.py (+ requirements.txt)
    base_model_s3: str = ""  # s3:// prefix of the base weights, mounted as channel "model"
    training_spot: bool = True
    training_max_runtime_s: int = 4 * 3600
    training_max_wait_s: int = 8 * 3600  # spot: waiting for capacity counts here
    model_package_group: str = ""  # SageMaker model package group of this deployment
    adapter_image: str = ""  # inference image recorded in model packages (the LMI container)

    @property
    def ingest_budget(self) -> IngestBudget:
        return IngestBudget(attempt_s=self.ingest_timeout_s, max_attempts=self.ingest_max_receives)

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(
            mode=os.environ.get(EnvVar.MODE, "local"),
            data_dir=Path(os.environ.get(EnvVar.DATA, ".noticebot")),
            max_upload_bytes=_int(EnvVar.MAX_UPLOAD_BYTES, cls.max_upload_bytes),
            chat_max_new_tokens=_int(EnvVar.CHAT_MAX_NEW_TOKENS, cls.chat_max_new_tokens),
            ingest_timeout_s=_int(EnvVar.INGEST_TIMEOUT_S, cls.ingest_timeout_s),
            ingest_max_receives=_int(EnvVar.INGEST_MAX_RECEIVES, cls.ingest_max_receives),
            aws_region=(os.environ.get(EnvVar.AWS_REGION)
                        or os.environ.get(EnvVar.AWS_DEFAULT_REGION, "")),
            bucket=os.environ.get(EnvVar.BUCKET, ""),
            kms_key_id=os.environ.get(EnvVar.KMS_KEY_ID, ""),
            table=os.environ.get(EnvVar.TABLE, ""),
            search_endpoint=os.environ.get(EnvVar.SEARCH_ENDPOINT, ""),
            search_service=os.environ.get(EnvVar.SEARCH_SERVICE) or cls.search_service,
            search_index=os.environ.get(EnvVar.SEARCH_INDEX) or cls.search_index,
            chat_endpoint=os.environ.get(EnvVar.CHAT_ENDPOINT, ""),
            chat_component=os.environ.get(EnvVar.CHAT_COMPONENT, ""),
            embed_model_dir=os.environ.get(EnvVar.EMBED_MODEL_DIR, ""),
            embed_function=os.environ.get(EnvVar.EMBED_FUNCTION, ""),
            presigned_max_bytes=_int(EnvVar.PRESIGNED_MAX_BYTES, cls.presigned_max_bytes),
            conversation_ttl_days=_int(EnvVar.CONVERSATION_TTL_DAYS,
                                       cls.conversation_ttl_days),
            user_pool_id=os.environ.get(EnvVar.USER_POOL_ID, ""),
            push_url=os.environ.get(EnvVar.PUSH_URL, ""),
            notify_queue_url=os.environ.get(EnvVar.NOTIFY_QUEUE_URL, ""),
            push_token_secret=os.environ.get(EnvVar.PUSH_TOKEN_SECRET, ""),
            **_training_from_env(cls),
        )


def _training_from_env(cls) -> dict:
    env = os.environ.get
    return dict(
        base_model=env(EnvVar.BASE_MODEL, ""),
        train_script=env(EnvVar.TRAIN_SCRIPT, ""),
        training_chat_template=env(EnvVar.CHAT_TEMPLATE, ""),
        training_job_prefix=env(EnvVar.TRAINING_JOB_PREFIX) or cls.training_job_prefix,
        training_role_arn=env(EnvVar.TRAINING_ROLE_ARN, ""),
        training_image=env(EnvVar.TRAINING_IMAGE, ""),
        training_image_tag=env(EnvVar.TRAINING_IMAGE_TAG) or cls.training_image_tag,
        training_instance_type=(env(EnvVar.TRAINING_INSTANCE_TYPE)
                                or cls.training_instance_type),
        training_source=env(EnvVar.TRAINING_SOURCE, ""),
        base_model_s3=env(EnvVar.BASE_MODEL_S3, ""),
        training_spot=env(EnvVar.TRAINING_SPOT, "true").lower() not in ("0", "false", "no"),
        training_max_runtime_s=_int(EnvVar.TRAINING_MAX_RUNTIME_S, cls.training_max_runtime_s),
        training_max_wait_s=_int(EnvVar.TRAINING_MAX_WAIT_S, cls.training_max_wait_s),
        model_package_group=env(EnvVar.MODEL_PACKAGE_GROUP, ""),
        adapter_image=env(EnvVar.ADAPTER_IMAGE, ""),
    )
