"""The Lambda functions of the AWS deployment: the one table the bundler and the CDK app read.

Each entry says what a function is (its name, handler and description), what goes into its
bundle (the package's extras, the distributions it never imports, which embedder files) and
which environment variables the stacks give it. `scripts/build_lambda_bundles.py` builds
build/lambda/<name> from it; the CDK constructs name, describe and configure each function from
it; memory and timeouts are stage configuration (cdk.json).

It lives in the package because every fact in it is about the package (handler paths, the
modules a bundle must import, the variables `Settings` reads), and it imports only the
standard library and `noticebot.environment`, so the bundler and the CDK app import it without
the package's dependencies.
"""

from __future__ import annotations

from dataclasses import dataclass

from noticebot.environment import EnvVar, PowertoolsEnv

# Where the bundler puts the embedder's files in a bundle, and so where the function finds them.
EMBEDDER_DIR = "models/bge_small_en"
LAMBDA_TASK_ROOT = "/var/task"  # where Lambda unzips a bundle
EMBED_MODEL_DIR = f"{LAMBDA_TASK_ROOT}/{EMBEDDER_DIR}"

# Where the bundler puts the reranker's files (the ms-marco MiniLM cross-encoder, ONNX) in the
# embed function's bundle: next to the package, so the handler finds them from its own path.
RERANKER_DIR = "models/ms_marco_minilm_l12"
RERANKER_FILES = ("model.onnx", "tokenizer.json")
# The exec wrapper that replaces the Python runtime's loop with one that streams responses
# (noticebot.entrypoints.lambda_streaming_runtime), as a path inside a bundle.
STREAM_WRAPPER = "noticebot/entrypoints/stream_bootstrap"

# Embedder files by what a function does with them: "model" runs the model (model.onnx +
# tokenizer.json, and config.json to check the vector dimension at load time); "tokenizer"
# only counts tokens while chunking and gets vectors from the embed function.
EMBEDDER_FILES = {"model": ("model.onnx", "tokenizer.json", "config.json"),
                  "tokenizer": ("tokenizer.json", "config.json")}

# Document parsers' libraries. Only ingest parses uploads: noticebot.ingestion.parsers imports
# each parser module on first use, so functions that never parse a file leave them out (about
# 60 MB: pillow, lxml, cryptography, ...). pillow and pypdfium2 are the `ocr` extra.
PARSER_DISTS = ("pypdf", "cryptography", "beautifulsoup4", "python-docx", "python-pptx",
                "openpyxl", "xlrd", "odfpy", "striprtf", "pillow", "pypdfium2")
# The embedding model's runtime (noticebot.adapters.local.onnx_embedder imports it on first
# use): only the functions that run the model carry it.
MODEL_RUNTIME_DISTS = ("onnxruntime", "numpy")

# What every function that builds the aws-mode container (noticebot.bootstrap) is given.
CONTAINER_ENVIRONMENT = frozenset({
    EnvVar.MODE, EnvVar.BUCKET, EnvVar.KMS_KEY_ID, EnvVar.TABLE, EnvVar.SEARCH_ENDPOINT,
    EnvVar.SEARCH_SERVICE, EnvVar.SEARCH_INDEX, EnvVar.CHAT_ENDPOINT, EnvVar.CHAT_COMPONENT,
    EnvVar.EMBED_MODEL_DIR, EnvVar.MAX_UPLOAD_BYTES, EnvVar.PRESIGNED_MAX_BYTES,
    EnvVar.INGEST_TIMEOUT_S, EnvVar.INGEST_MAX_RECEIVES,
    PowertoolsEnv.SERVICE_NAME, PowertoolsEnv.LOG_LEVEL,
})
# The fine-tune settings: the API launches training jobs, the deploy function registers and
# deploys their adapters.
FINE_TUNE_ENVIRONMENT = frozenset({
    EnvVar.TRAINING_ROLE_ARN, EnvVar.TRAINING_JOB_PREFIX, EnvVar.TRAINING_IMAGE,
    EnvVar.TRAINING_INSTANCE_TYPE, EnvVar.TRAINING_SOURCE, EnvVar.TRAINING_SPOT,
    EnvVar.TRAINING_MAX_RUNTIME_S, EnvVar.TRAINING_MAX_WAIT_S, EnvVar.BASE_MODEL,
    EnvVar.MODEL_PACKAGE_GROUP, EnvVar.ADAPTER_IMAGE,
})
# Only when the stage stages the base weights in S3 (config model.weights_s3_uri).
FINE_TUNE_OPTIONAL_ENVIRONMENT = frozenset({EnvVar.BASE_MODEL_S3})


@dataclass(frozen=True)
class LambdaFunction:
    """One function: `{prefix}-{name}` in AWS, build/lambda/{name} on disk."""

    name: str
    handler: str
    description: str
    extras: tuple[str, ...]  # lambdas/pyproject.toml extras on top of its dependencies
    exclude: tuple[str, ...]  # distributions it never imports, left out of its bundle
    embedder: str | None  # a key of EMBEDDER_FILES, or None: no embedder files
    # Modules the bundle's smoke test imports, the handler's module first.
    smoke_imports: tuple[str, ...]
    environment: frozenset[str]  # the variables the stacks always set
    optional_environment: frozenset[str] = frozenset()  # set when the stage configures them
    bytecode: bool = True  # ship cp312 bytecode (faster cold starts, bigger bundle)
    reranker: bool = False  # carries the cross-encoder's files (RERANKER_DIR)
    # A path in the bundle Lambda starts instead of its runtime loop (AWS_LAMBDA_EXEC_WRAPPER):
    # set for a function API Gateway invokes with response streaming.
    exec_wrapper: str | None = None

    @property
    def embedder_files(self) -> tuple[str, ...]:
        return EMBEDDER_FILES[self.embedder] if self.embedder else ()


_FUNCTIONS = (
    # Upload (store + queue), documents, notices (chunk; vectors from the embed function),
    # search and chat (the query's vector from the embed function; SageMaker), fine-tunes.
    LambdaFunction(
        name="api", handler="noticebot.handlers.api.app.handler",
        description="The /api routes: notices, documents, uploads, search, chat",
        extras=("aws",), exclude=PARSER_DISTS + MODEL_RUNTIME_DISTS, embedder="tokenizer",
        smoke_imports=("noticebot.handlers.api.app", "opensearchpy",
                       "noticebot.adapters.aws.lambda_embedder",
                       "noticebot.adapters.aws.lambda_reranker",
                       "noticebot.adapters.aws.cognito_directory",
                       "noticebot.adapters.aws.sqs_notice_events"),
        # Members and invitations manage the stage's Cognito users; posts and new pins are
        # announced on the notify queue.
        environment=CONTAINER_ENVIRONMENT | FINE_TUNE_ENVIRONMENT | {
            EnvVar.EMBED_FUNCTION, EnvVar.USER_POOL_ID, EnvVar.NOTIFY_QUEUE_URL},
        optional_environment=FINE_TUNE_OPTIONAL_ENVIRONMENT),
    # Detect, parse (every format; scans and images via Textract, which needs the `ocr` extra
    # to decode and render pages), clean, chunk, embed in process, bulk index.
    LambdaFunction(
        name="ingest", handler="noticebot.handlers.ingest.handler",
        description="Parses, chunks, embeds and indexes uploaded documents (SQS batches)",
        extras=("aws", "ocr"), exclude=(), embedder="model",
        smoke_imports=("noticebot.handlers.ingest", "opensearchpy", "pypdf", "bs4", "docx",
                       "pptx", "openpyxl", "xlrd", "odf.opendocument", "striprtf.striprtf",
                       "PIL.Image", "pypdfium2"),
        environment=CONTAINER_ENVIRONMENT,
        # Bytecode would leave ~20 MiB under Lambda's 250 MB, and ingest's cold start (an SQS
        # batch, model load first) is nobody's wait.
        bytecode=False),
    # Resumes ingestion when a Transcribe job ends (chunk the transcript, embed through the
    # embed function, index); it parses no files.
    LambdaFunction(
        name="transcription", handler="noticebot.handlers.transcription.handler",
        description="Resumes ingestion of an audio upload when its Transcribe job ends",
        extras=("aws",), exclude=PARSER_DISTS + MODEL_RUNTIME_DISTS, embedder="tokenizer",
        smoke_imports=("noticebot.handlers.transcription", "opensearchpy"),
        environment=CONTAINER_ENVIRONMENT | {EnvVar.EMBED_FUNCTION}),
    # A fine-tune finished (EventBridge) -> job records (DynamoDB), model package and adapter
    # inference component (SageMaker). It parses no file and embeds no text.
    LambdaFunction(
        name="deploy", handler="noticebot.handlers.deploy.handler",
        description="Registers and deploys a finished workspace fine-tune (LoRA adapter)",
        extras=("aws",), exclude=PARSER_DISTS + MODEL_RUNTIME_DISTS + ("tokenizers",),
        embedder=None,
        smoke_imports=("noticebot.handlers.deploy", "noticebot.adapters.aws.sagemaker_registry",
                       "noticebot.adapters.aws.sagemaker_training", "noticebot.services.models"),
        environment=CONTAINER_ENVIRONMENT | FINE_TUNE_ENVIRONMENT,
        optional_environment=FINE_TUNE_OPTIONAL_ENVIRONMENT),
    # Texts in, vectors out, for the API, chat and transcription functions; and (query,
    # passages) in, cross-encoder scores out, for search and chat. No AWS SDK use, no parsing,
    # no request validation library, no container.
    LambdaFunction(
        name="embed", handler="noticebot.handlers.embed.handler",
        description="Embeds texts (bge-small-en) and reranks passages (ms-marco MiniLM), ONNX",
        extras=(), exclude=PARSER_DISTS + ("aws-lambda-powertools", "pydantic",
                                           "charset-normalizer"),
        embedder="model", smoke_imports=("noticebot.handlers.embed",),
        environment=frozenset({EnvVar.EMBED_MODEL_DIR, PowertoolsEnv.SERVICE_NAME}),
        reranker=True),
    # POST /api/chat, which API Gateway invokes with response streaming: Server-Sent Events
    # when asked, else the API function's own answer. The API function's bundle (one asset)
    # without the fine-tune settings (chat only reads which model a workspace uses); its own
    # runtime loop (exec_wrapper), since the Python runtime cannot stream.
    LambdaFunction(
        name="chat", handler="noticebot.handlers.chat_function.handler",
        description="POST /api/chat: streamed (Server-Sent Events) or whole answers",
        extras=("aws",), exclude=PARSER_DISTS + MODEL_RUNTIME_DISTS, embedder="tokenizer",
        smoke_imports=("noticebot.handlers.chat_function",
                       "noticebot.entrypoints.lambda_streaming_runtime", "opensearchpy",
                       "noticebot.adapters.aws.lambda_embedder",
                       "noticebot.adapters.aws.lambda_reranker"),
        environment=CONTAINER_ENVIRONMENT | {EnvVar.EMBED_FUNCTION},
        exec_wrapper=STREAM_WRAPPER),
    # Notice events (SQS, from the API function) -> members' devices through Expo's push API,
    # the access token from Secrets Manager; later, the pushes' receipts (its own delayed
    # messages on the same queue). Reads the table only: no model, no parsing.
    LambdaFunction(
        name="notify", handler="noticebot.handlers.notify.handler",
        description="Pushes new and newly pinned notices to members' devices (Expo)",
        extras=("aws",), exclude=PARSER_DISTS + MODEL_RUNTIME_DISTS + ("tokenizers",),
        embedder=None,
        smoke_imports=("noticebot.handlers.notify", "noticebot.adapters.aws.expo_push_notifier",
                       "noticebot.services.notifications"),
        environment=CONTAINER_ENVIRONMENT | {EnvVar.PUSH_TOKEN_SECRET, EnvVar.NOTIFY_QUEUE_URL},
        optional_environment=frozenset({EnvVar.PUSH_URL})),
)
FUNCTIONS: dict[str, LambdaFunction] = {f.name: f for f in _FUNCTIONS}
API, INGEST, TRANSCRIPTION, DEPLOY, EMBED, CHAT, NOTIFY = _FUNCTIONS
