"""The environment-variable contract: the name of every variable the package reads, once.

`noticebot.config.Settings.from_env` reads them, the CDK app sets them (each function gets
the names its entry in `noticebot.functions` lists) and the tests check the two against each
other. Standard library only: the CDK app and the bundler import it without the package's
dependencies.
"""

from __future__ import annotations


class EnvVar:
    """Variables `Settings.from_env` reads. The attribute says what it holds."""

    MODE = "NOTICEBOT_MODE"  # "local" or "aws"
    DATA = "NOTICEBOT_DATA"  # local: the data folder
    MAX_UPLOAD_BYTES = "NOTICEBOT_MAX_UPLOAD_BYTES"
    PRESIGNED_MAX_BYTES = "NOTICEBOT_PRESIGNED_MAX_BYTES"
    CHAT_MAX_NEW_TOKENS = "NOTICEBOT_CHAT_MAX_NEW_TOKENS"
    CONVERSATION_TTL_DAYS = "NOTICEBOT_CONVERSATION_TTL_DAYS"
    # One ingest attempt's time budget (the ingest function's timeout) and the upload queue's
    # maxReceiveCount: together they tell a stuck document from a busy one.
    INGEST_TIMEOUT_S = "NOTICEBOT_INGEST_TIMEOUT_S"
    INGEST_MAX_RECEIVES = "NOTICEBOT_INGEST_MAX_RECEIVES"
    # Set by the Lambda runtime, not by the stacks.
    AWS_REGION = "AWS_REGION"
    AWS_DEFAULT_REGION = "AWS_DEFAULT_REGION"
    BUCKET = "NOTICEBOT_BUCKET"
    KMS_KEY_ID = "NOTICEBOT_KMS_KEY_ID"
    TABLE = "NOTICEBOT_TABLE"
    SEARCH_ENDPOINT = "NOTICEBOT_SEARCH_ENDPOINT"
    SEARCH_SERVICE = "NOTICEBOT_SEARCH_SERVICE"  # "es" or "aoss"
    SEARCH_INDEX = "NOTICEBOT_SEARCH_INDEX"
    CHAT_ENDPOINT = "NOTICEBOT_CHAT_ENDPOINT"
    CHAT_COMPONENT = "NOTICEBOT_CHAT_COMPONENT"
    EMBED_MODEL_DIR = "NOTICEBOT_EMBED_MODEL_DIR"
    EMBED_FUNCTION = "NOTICEBOT_EMBED_FUNCTION"  # set: vectors come from the embed function
    # The Cognito user pool the API function invites users into and manages (its id).
    USER_POOL_ID = "NOTICEBOT_USER_POOL_ID"
    # Pushes: the push service's URL (aws: default Expo's; local: empty records to the
    # outbox only), the queue notice events go to (the API function sends, the notify
    # function consumes), and the Secrets Manager secret holding the Expo access token.
    PUSH_URL = "NOTICEBOT_PUSH_URL"
    NOTIFY_QUEUE_URL = "NOTICEBOT_NOTIFY_QUEUE_URL"
    PUSH_TOKEN_SECRET = "NOTICEBOT_PUSH_TOKEN_SECRET"
    # Fine-tuning.
    BASE_MODEL = "NOTICEBOT_BASE_MODEL"
    BASE_MODEL_S3 = "NOTICEBOT_BASE_MODEL_S3"
    TRAIN_SCRIPT = "NOTICEBOT_TRAIN_SCRIPT"
    CHAT_TEMPLATE = "NOTICEBOT_CHAT_TEMPLATE"
    TRAINING_JOB_PREFIX = "NOTICEBOT_TRAINING_JOB_PREFIX"
    TRAINING_ROLE_ARN = "NOTICEBOT_TRAINING_ROLE_ARN"
    TRAINING_IMAGE = "NOTICEBOT_TRAINING_IMAGE"
    TRAINING_IMAGE_TAG = "NOTICEBOT_TRAINING_IMAGE_TAG"
    TRAINING_INSTANCE_TYPE = "NOTICEBOT_TRAINING_INSTANCE_TYPE"
    TRAINING_SOURCE = "NOTICEBOT_TRAINING_SOURCE"
    TRAINING_SPOT = "NOTICEBOT_TRAINING_SPOT"
    TRAINING_MAX_RUNTIME_S = "NOTICEBOT_TRAINING_MAX_RUNTIME_S"
    TRAINING_MAX_WAIT_S = "NOTICEBOT_TRAINING_MAX_WAIT_S"
    MODEL_PACKAGE_GROUP = "NOTICEBOT_MODEL_PACKAGE_GROUP"
    ADAPTER_IMAGE = "NOTICEBOT_ADAPTER_IMAGE"


class PowertoolsEnv:
    """Variables Powertools (logger, tracer) reads; the stacks set them, Settings does not."""

    SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
    LOG_LEVEL = "POWERTOOLS_LOG_LEVEL"


def _names(namespace: type) -> frozenset[str]:
    return frozenset(v for k, v in vars(namespace).items() if k.isupper())


SETTINGS_VARS = _names(EnvVar)
POWERTOOLS_VARS = _names(PowertoolsEnv)
