"""The composition root's aws mode: S3, DynamoDB, OpenSearch, SageMaker, the embedder.

Called by ``bootstrap()`` when ``NOTICEBOT_MODE=aws``, i.e. on a function's first
invocation (``handlers.lambda_container``), never at import. Even then no AWS
client exists yet: each adapter gets a factory and builds its client on first use, so
a request that touches only DynamoDB never pays for the OpenSearch or SageMaker
clients, and the OpenSearch package (~0.2 s to import) loads on the first search.

Configuration is the environment the CDK stacks set (``Settings.from_env``):
NOTICEBOT_BUCKET, NOTICEBOT_KMS_KEY_ID, NOTICEBOT_TABLE, NOTICEBOT_SEARCH_ENDPOINT,
NOTICEBOT_SEARCH_SERVICE, NOTICEBOT_SEARCH_INDEX, NOTICEBOT_CHAT_ENDPOINT,
NOTICEBOT_CHAT_COMPONENT, NOTICEBOT_EMBED_MODEL_DIR, NOTICEBOT_EMBED_FUNCTION, NOTICEBOT_MAX_UPLOAD_BYTES,
NOTICEBOT_PRESIGNED_MAX_BYTES, NOTICEBOT_CONVERSATION_TTL_DAYS, AWS_REGION; fine-tuning:
NOTICEBOT_TRAINING_ROLE_ARN, NOTICEBOT_TRAINING_JOB_PREFIX, NOTICEBOT_TRAINING_IMAGE (or
NOTICEBOT_TRAINING_IMAGE_TAG), NOTICEBOT_TRAINING_INSTANCE_TYPE, NOTICEBOT_TRAINING_SOURCE,
NOTICEBOT_TRAINING_SPOT, NOTICEBOT_TRAINING_MAX_RUNTIME_S, NOTICEBOT_TRAINING_MAX_WAIT_S,
NOTICEBOT_BASE_MODEL(_S3), NOTICEBOT_MODEL_PACKAGE_GROUP, NOTICEBOT_ADAPTER_IMAGE; members:
NOTICEBOT_USER_POOL_ID (the Cognito user pool invitations create users in; without it
membership still works and invitations answer 503); pushes: NOTICEBOT_NOTIFY_QUEUE_URL
(where the API function announces posts and new pins; without it nothing is announced),
NOTICEBOT_PUSH_URL (default Expo's) and NOTICEBOT_PUSH_TOKEN_SECRET (the Secrets Manager
secret with the Expo access token, read on the first push; empty: no token sent).

The embedder is the local one (bge-small ONNX, 384 dimensions, batch 1): the same
model and the same vectors as a laptop's index. The ingest function runs it in process,
loaded from its bundle (NOTICEBOT_EMBED_MODEL_DIR) on first use. The API, chat and
transcription functions set NOTICEBOT_EMBED_FUNCTION and ask the embed function instead
(``LambdaEmbedder``), keeping only the tokenizer: their bundles stay small and numpy-free.
The same functions rerank search candidates with the local stack's cross-encoder through that
function too (``LambdaReranker``); the ingest and deploy functions never search and get none.
"""

from __future__ import annotations

from noticebot.adapters.aws.clients import AwsClients
from noticebot.config import Settings
from noticebot.container import Container, wire_services
from noticebot.ingestion.engines import Engines
from noticebot.ports import BlobStore, ChatModel, Embedder, MetadataStore, Reranker, VectorIndex


def _require(settings: Settings, **overridden: bool) -> None:
    needs = {"NOTICEBOT_BUCKET": (settings.bucket, overridden["blobs"]),
             "NOTICEBOT_TABLE": (settings.table, overridden["metadata"]),
             "NOTICEBOT_SEARCH_ENDPOINT": (settings.search_endpoint, overridden["index"])}
    missing = [name for name, (value, given) in needs.items() if not value and not given]
    if missing:
        raise ValueError("aws mode needs " + ", ".join(missing)
                         + " in the environment (the CDK stack sets them on each function)")
    if settings.search_service not in ("es", "aoss"):
        raise ValueError("NOTICEBOT_SEARCH_SERVICE must be 'es' (managed domain) or 'aoss' "
                         f"(Serverless collection), not {settings.search_service!r}")


def bootstrap_aws(settings: Settings | None = None, *, clients: AwsClients | None = None,
                  embedder: Embedder | None = None, chat_model: ChatModel | None = None,
                  index: VectorIndex | None = None, metadata: MetadataStore | None = None,
                  blobs: BlobStore | None = None, engines=None,
                  transcription_jobs=None, launcher=None, registry=None,
                  reranker: Reranker | None = None, directory=None, notifier=None,
                  notice_events=None) -> Container:
    """Builds the container for AWS. Any port can be overridden (tests pass fakes; the
    moto integration test passes the local index, since no OpenSearch runs there).
    ``engines`` / ``transcription_jobs`` (OCR, speech to text) go to the ingest service
    unchanged; when neither is given, Amazon Textract and Transcribe are used.
    ``reranker``: default the embed function's cross-encoder when NOTICEBOT_EMBED_FUNCTION
    is set, else none (the fused order)."""
    settings = settings or Settings.from_env()
    _require(settings, blobs=blobs is not None, metadata=metadata is not None,
             index=index is not None)
    clients = clients or AwsClients(region=settings.aws_region or None)
    if engines is None and transcription_jobs is None:
        # Textract and Transcribe; no client is built until a document needs one.
        engines, transcription_jobs = aws_engines(clients, settings.bucket)
    if blobs is None:
        from noticebot.adapters.aws.s3_blob_store import S3BlobStore

        blobs = S3BlobStore(settings.bucket, clients.provider("s3"),
                            kms_key_id=settings.kms_key_id)
    if metadata is None:
        from noticebot.adapters.aws.dynamodb_metadata_store import DynamoDbMetadataStore

        metadata = DynamoDbMetadataStore(settings.table, clients.provider("dynamodb"),
                                         conversation_ttl_days=settings.conversation_ttl_days)
    if embedder is None:
        embedder = _embedder(settings, clients)
    if reranker is None and settings.embed_function:
        from noticebot.adapters.aws.lambda_reranker import LambdaReranker

        reranker = LambdaReranker(settings.embed_function, clients.provider("lambda"))
    if index is None:
        from noticebot.adapters.aws.opensearch_index import OpenSearchVectorIndex

        index = OpenSearchVectorIndex(
            lambda: _search_client(settings, clients), settings.search_index,
            service=settings.search_service, dimension=embedder.dimension)
    if chat_model is None:
        from noticebot.adapters.aws.sagemaker_endpoint import SageMakerEndpoint
        from noticebot.adapters.endpoint_chat_model import EndpointChatModel
        from noticebot.llm.content_handlers import LmiLlama3ContentHandler

        endpoint = SageMakerEndpoint(settings.chat_endpoint, clients.provider("sagemaker-runtime"),
                                     base_component=settings.chat_component)
        chat_model = EndpointChatModel(endpoint, LmiLlama3ContentHandler(),
                                       settings.chat_component or settings.chat_endpoint or "llama3")
    launcher = launcher or _training_launcher(settings, clients)
    registry = registry or _model_registry(settings, clients, blobs)
    if directory is None and settings.user_pool_id:
        from noticebot.adapters.aws.cognito_directory import CognitoDirectory

        directory = CognitoDirectory(settings.user_pool_id, clients.provider("cognito-idp"))
    notifier, notice_events = _pushes(settings, clients, notifier, notice_events)
    return Container(
        settings=settings, metadata=metadata, blobs=blobs, index=index, embedder=embedder,
        chat_model=chat_model,
        **wire_services(settings, metadata, blobs, index, embedder, chat_model, engines,
                        transcription_jobs, launcher=launcher, registry=registry,
                        reranker=reranker, directory=directory, notifier=notifier,
                        notice_events=notice_events),
    )


def _pushes(settings: Settings, clients: AwsClients, notifier, notice_events):
    """(Expo's push API with the token from Secrets Manager, the notify queue); neither
    builds a client before its first use."""
    if notifier is None:
        from noticebot.adapters.aws.expo_push_notifier import expo_push_notifier

        notifier = expo_push_notifier(settings.push_url, settings.push_token_secret,
                                      clients.provider("secretsmanager"))
    if notice_events is None and settings.notify_queue_url:
        from noticebot.adapters.aws.sqs_notice_events import SqsNoticeEvents

        notice_events = SqsNoticeEvents(settings.notify_queue_url, clients.provider("sqs"))
    return notifier, notice_events


def aws_engines(clients: AwsClients, bucket: str, *, language_code: str | None = "en-US"):
    """(Engines with Amazon Textract OCR, Amazon Transcribe jobs).

    ``clients`` is the lazy ``AwsClients``: no client is built until a document needs one.
    Textract reads multi-page scans through ``<bucket>/textract-staging/``; Transcribe reads
    audio uploads where they lie and writes to ``<bucket>/transcripts/``. Without a bucket,
    scans are OCR'd page by page (DetectDocumentText) and there are no transcription jobs.
    """
    from noticebot.adapters.aws.textract_ocr import TextractOcr
    from noticebot.adapters.aws.transcribe import TranscribeJobs

    s3 = clients.provider("s3")
    ocr = TextractOcr(clients.provider("textract"), s3=s3, bucket=bucket)
    if not bucket:  # no bucket: scans go page by page; audio fails as "cannot be transcribed"
        return Engines(ocr=ocr), None
    jobs = TranscribeJobs(clients.provider("transcribe"), s3=s3, bucket=bucket,
                          language_code=language_code)
    return Engines(ocr=ocr), jobs


def _embedder(settings: Settings, clients: AwsClients) -> Embedder:
    if settings.embed_function:
        from pathlib import Path

        from noticebot.adapters.aws.lambda_embedder import LambdaEmbedder
        from noticebot.adapters.tokenizer_file import installed_model_dir

        model_dir = Path(settings.embed_model_dir) if settings.embed_model_dir \
            else installed_model_dir()
        return LambdaEmbedder(settings.embed_function, clients.provider("lambda"),
                              tokenizer_path=model_dir / "tokenizer.json" if model_dir else None)
    from noticebot.adapters.local.onnx_embedder import OnnxEmbedder

    return OnnxEmbedder(settings.embed_model_dir or None)


def _training_launcher(settings: Settings, clients: AwsClients):
    from noticebot.adapters.aws.sagemaker_training import (
        SageMakerTrainingLauncher,
        training_image_uri,
    )

    region = settings.aws_region or clients.region or ""
    image = settings.training_image or (
        training_image_uri(region, settings.training_image_tag) if region else "")
    return SageMakerTrainingLauncher(
        clients.provider("sagemaker"), bucket=settings.bucket, role_arn=settings.training_role_arn,
        image_uri=image, region=region, instance_type=settings.training_instance_type,
        job_prefix=settings.training_job_prefix, source_uri=settings.training_source,
        base_model_s3=settings.base_model_s3, spot=settings.training_spot,
        max_runtime_s=settings.training_max_runtime_s, max_wait_s=settings.training_max_wait_s,
        kms_key_id=settings.kms_key_id, s3_client=clients.provider("s3"))


def _model_registry(settings: Settings, clients: AwsClients, blobs: BlobStore):
    from noticebot.adapters.aws.sagemaker_registry import SageMakerModelRegistry

    return SageMakerModelRegistry(
        clients.provider("sagemaker"), blobs, bucket=settings.bucket,
        group_name=settings.model_package_group, endpoint_name=settings.chat_endpoint,
        base_component=settings.chat_component, image_uri=settings.adapter_image)


def _search_client(settings: Settings, clients: AwsClients):
    from noticebot.adapters.aws.opensearch_client import opensearch_client

    return opensearch_client(settings.search_endpoint, service=settings.search_service,
                             region=settings.aws_region or clients.session.region_name,
                             credentials=clients.credentials())
