"""Typed, frozen configuration, read once from the `noticebot` key of the cdk.json context.

`app.py` calls `load_config(app)` once and hands the result down; constructs never read context
themselves. Stages (dev, prod) differ only by the values here. Every field is checked when the
config is built, so a typo in cdk.json fails `cdk synth` with a message naming the key, instead
of a CloudFormation error at deploy time.
"""

from __future__ import annotations

import re
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, get_args, get_origin, get_type_hints
from urllib.parse import urlsplit

from noticebot.adapters.aws.clients import blocking_path_s

CONTEXT_KEY = "noticebot"
# Context keys that override the file for one synth (`cdk synth -c stage=dev`).
STAGE_CONTEXT_KEY = "stage"
ASSETS_CONTEXT_KEY = "noticebot:lambda-assets"  # "placeholder" in fast tests
NAG_CONTEXT_KEY = "noticebot:nag"  # "false" turns the cdk-nag validation plugin off


class ConfigError(ValueError):
    pass


def _build(cls, raw: Any, path: str):
    """Builds a frozen dataclass from a dict, rejecting unknown keys and wrong types."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected an object, got {type(raw).__name__}")
    hints = get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {sorted(unknown)}; known: {sorted(known)}")
    values = {}
    for f in fields(cls):
        where = f"{path}.{f.name}"
        if f.name not in raw:
            if f.default is MISSING and f.default_factory is MISSING:
                raise ConfigError(f"{where}: required")
            continue
        values[f.name] = _coerce(hints[f.name], raw[f.name], where)
    obj = cls(**values)
    validate = getattr(obj, "validate", None)
    if validate:
        validate(path)
    return obj


def _coerce(tp, value, where):
    origin = get_origin(tp)
    if hasattr(tp, "__dataclass_fields__"):
        return _build(tp, value, where)
    if origin is tuple:
        (item_tp, _ellipsis) = get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list")
        return tuple(_coerce(item_tp, v, f"{where}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        key_tp, val_tp = get_args(tp)
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected an object")
        return {k: _coerce(val_tp, v, f"{where}.{k}") for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true/false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    raise ConfigError(f"{where}: unsupported type {tp}")  # pragma: no cover


def _require(cond: bool, where: str, message: str) -> None:
    if not cond:
        raise ConfigError(f"{where}: {message}")


@dataclass(frozen=True)
class StorageConfig:
    noncurrent_version_days: int = 30  # deleted / replaced uploads are kept this long
    raw_infrequent_access_days: int = 90  # uploads move to Intelligent-Tiering after this
    cors_origins: tuple[str, ...] = ()  # browser origins allowed to POST presigned uploads

    def validate(self, path: str) -> None:
        _require(self.noncurrent_version_days >= 1, path, "noncurrent_version_days must be >= 1")
        _require(self.raw_infrequent_access_days >= 0, path, "raw_infrequent_access_days >= 0")


@dataclass(frozen=True)
class ApiConfig:
    throttle_rate_per_second: int = 20
    throttle_burst: int = 40
    cors_origins: tuple[str, ...] = ()
    waf: bool = False  # AWS WAF web ACL (managed rules + rate limits) on the stage
    # WAF rate limits per 5 minutes: per signed-in caller (the Authorization header: one
    # member, whatever network they share), and per source IP, a ceiling high enough for a
    # carrier NAT or a school network full of members that still stops a flood.
    waf_caller_limit: int = 1000
    waf_ip_limit: int = 20000
    latency_alarm_ms: int = 10000  # p99 integration latency that pages
    # API Gateway writes access logs through the account's CloudWatch role (one setting per
    # account and region). True: this stack creates that role and sets it (kept when the
    # stack is deleted, so another stage's logs keep working). False: the account's platform
    # team has set it; `make preflight` checks that it is set.
    account_logging_role: bool = True

    def validate(self, path: str) -> None:
        _require(self.throttle_rate_per_second > 0 and self.throttle_burst > 0, path,
                 "throttling limits must be positive")
        # WAF's rate-based rules take limits of 10..2,000,000,000 per evaluation window.
        _require(10 <= self.waf_caller_limit <= self.waf_ip_limit, f"{path}.waf_caller_limit",
                 "10 <= waf_caller_limit <= waf_ip_limit (one IP may carry many callers)")


_CALLBACK_URL = re.compile(r"(https://[^\s#]+|http://localhost(:\d+)?(/[^\s#]*)?"
                           r"|[a-z][a-z0-9+.-]*://[^\s#]*)")
_RESERVED_DOMAIN_WORDS = ("aws", "amazon", "cognito")


@dataclass(frozen=True)
class AuthConfig:
    self_sign_up: bool = False  # editors invite members (admin-created users) by default
    mfa: str = "optional"  # "optional" | "required"
    threat_protection: bool = False  # Cognito Plus feature plan, threat protection enforced
    # The hosted sign-in page (OAuth 2.0 code + PKCE, the app's sign-in): its domain prefix,
    # https://{prefix}.auth.{region}.amazoncognito.com. Prefixes are unique per region across
    # all accounts; "" = "{project}-{stage}-{account id}", which nobody else can hold.
    domain_prefix: str = ""
    # Where the hosted UI may send the user back with a code: the app's scheme
    # (noticebot://auth/callback) and the web build's origins. https, a custom scheme, or
    # http://localhost only (Cognito refuses other http URLs).
    callback_urls: tuple[str, ...] = ("noticebot://auth/callback",)
    logout_urls: tuple[str, ...] = ()
    # The link Cognito's invitation e-mail carries next to the temporary password: where the
    # invitee opens the app to sign in. "" = the origin of the first callback URL (the app's
    # noticebot:// scheme, or the web build's https origin).
    app_link: str = ""

    @property
    def invitation_link(self) -> str:
        if self.app_link:
            return self.app_link
        parts = urlsplit(self.callback_urls[0])
        if parts.scheme in ("http", "https"):
            return f"{parts.scheme}://{parts.netloc}/"
        return f"{parts.scheme}://"  # a custom scheme has no host: the app's start screen

    def validate(self, path: str) -> None:
        _require(self.mfa in ("optional", "required"), f"{path}.mfa", "optional or required")
        if self.domain_prefix:
            _require(re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", self.domain_prefix)
                     is not None and not any(w in self.domain_prefix
                                             for w in _RESERVED_DOMAIN_WORDS),
                     f"{path}.domain_prefix",
                     "1-63 lowercase letters, digits and hyphens, without 'aws', 'amazon' or "
                     "'cognito' (Cognito's rules for a domain prefix)")
        _require(bool(self.callback_urls), f"{path}.callback_urls",
                 "at least one URL the hosted sign-in may return to (the app's "
                 "noticebot://auth/callback)")
        if self.app_link:
            _require(_CALLBACK_URL.fullmatch(self.app_link) is not None
                     and not self.app_link.startswith("http://")
                     or self.app_link.startswith("http://localhost"), f"{path}.app_link",
                     f"{self.app_link!r}: https://..., http://localhost... or a custom scheme")
            _require(not any(c in self.app_link for c in "<>\"'{}"), f"{path}.app_link",
                     "no <, >, quotes or braces (it goes into the invitation e-mail's HTML, "
                     "where Cognito reads {...} as placeholders)")
        for i, url in enumerate((*self.callback_urls, *self.logout_urls)):
            _require(_CALLBACK_URL.fullmatch(url) is not None and not url.startswith("http://")
                     or url.startswith("http://localhost"), f"{path}.callback_urls[{i}]",
                     f"{url!r}: https://..., http://localhost... or a custom scheme (app://...)")


@dataclass(frozen=True)
class FunctionsConfig:
    api_memory_mb: int = 2048
    api_timeout_s: int = 29
    ingest_memory_mb: int = 3008
    ingest_timeout_s: int = 300
    ingest_batch_size: int = 4
    ingest_max_concurrency: int = 4
    max_upload_bytes: int = 4 * 1024 * 1024  # direct multipart uploads through the API
    presigned_max_bytes: int = 100 * 1024 * 1024  # presigned POST straight to S3
    # The fine-tune deploy function: DynamoDB, a model package, an inference component (and,
    # when the job reported no losses, metrics.json streamed out of the adapter's tarball).
    deploy_memory_mb: int = 512
    deploy_timeout_s: int = 120
    # The embed function (bge-small ONNX) the API and transcription functions ask for vectors.
    # Memory buys CPU: 2048 MB is a bit over one vCPU. Provisioned concurrency keeps that many
    # environments loaded (no 1-2 s model load on a user's first search); it is billed hourly.
    embed_memory_mb: int = 2048
    embed_timeout_s: int = 20
    embed_provisioned_concurrency: int = 0
    # The chat function (POST /api/chat through API Gateway response streaming). A streamed
    # response may run up to 15 minutes, so its timeout is not held to the API's 29 s: it is
    # the longest answer allowed (retrieval, reranking, generation, the support check).
    chat_memory_mb: int = 2048
    chat_timeout_s: int = 120
    # The notify function (SQS notice events -> Expo's push API): DynamoDB reads and one HTTPS
    # request per event; its queue's visibility timeout is 6x this timeout.
    notify_memory_mb: int = 256
    notify_timeout_s: int = 30

    def validate(self, path: str) -> None:
        # API Gateway's integration timeout is 29 s by default; the API function's slowest
        # blocking path (its clients' timeouts times their attempts, with 2 s for the rest:
        # noticebot.adapters.aws.clients.BLOCKING_PATHS) must end before it does.
        _require(1 <= self.api_timeout_s <= 29, f"{path}.api_timeout_s", "1..29")
        need = blocking_path_s("api") + FUNCTION_MARGIN_S
        _require(self.api_timeout_s >= need, f"{path}.api_timeout_s",
                 f">= {need:g} s: the API function's slowest path (an embedding, two searches "
                 "and a rerank, noticebot.adapters.aws.clients) must fit its timeout")
        need = blocking_path_s("chat") + FUNCTION_MARGIN_S
        _require(self.chat_timeout_s >= need, f"{path}.chat_timeout_s",
                 f">= {need:g} s: a whole (unstreamed) answer's slowest path (retrieval, "
                 "reranking, the model's read timeout and retry, the support check) must fit")
        _require(1 <= self.ingest_timeout_s <= 900, f"{path}.ingest_timeout_s", "1..900")
        _require(1 <= self.deploy_timeout_s <= 900, f"{path}.deploy_timeout_s", "1..900")
        # SQS caps a queue's visibility timeout at 12 hours; 6x 900 s stays well inside.
        _require(1 <= self.notify_timeout_s <= 900, f"{path}.notify_timeout_s", "1..900")
        # A synchronous call from the API, which API Gateway cuts at 29 s.
        _require(1 <= self.embed_timeout_s <= 28, f"{path}.embed_timeout_s", "1..28")
        # API Gateway streams a response for at most 15 minutes; the integration's timeout is
        # the function's plus the 10 s a cold start's init may take (cdk/constructs/api.py).
        _require(5 <= self.chat_timeout_s <= 890, f"{path}.chat_timeout_s", "5..890")
        _require(0 <= self.embed_provisioned_concurrency <= 100,
                 f"{path}.embed_provisioned_concurrency", "0..100")
        _require(1 <= self.ingest_batch_size <= 10, f"{path}.ingest_batch_size", "1..10")
        # Lambda's SQS event source accepts a maximum concurrency of 2..1000.
        _require(2 <= self.ingest_max_concurrency <= 1000, f"{path}.ingest_max_concurrency",
                 "2..1000")
        # Base64 in API Gateway (10 MB) and Lambda's 6 MB synchronous payload.
        _require(0 < self.max_upload_bytes <= 4 * 1024 * 1024, f"{path}.max_upload_bytes",
                 "at most 4 MiB (base64 through API Gateway into a 6 MB Lambda payload)")
        _require(self.presigned_max_bytes >= self.max_upload_bytes, f"{path}.presigned_max_bytes",
                 "must be >= max_upload_bytes")
        for name in ("api_memory_mb", "ingest_memory_mb", "deploy_memory_mb", "embed_memory_mb",
                     "chat_memory_mb", "notify_memory_mb"):
            _require(128 <= getattr(self, name) <= 10240, f"{path}.{name}", "128..10240")


FUNCTION_MARGIN_S = 2  # a function's own work besides its slowest calls (DynamoDB, parsing)


@dataclass(frozen=True)
class SearchConfig:
    mode: str = "domain"  # "domain" (OpenSearch Service) | "serverless" (vector collection)
    index: str = "noticebot-chunks"
    engine_version: str = "OpenSearch_2.19"  # domain mode
    instance_type: str = "t3.small.search"  # domain mode
    instance_count: int = 1
    dedicated_master_type: str = ""  # "" = no dedicated masters
    zone_awareness: bool = False
    volume_gb: int = 10
    standby_replicas: bool = False  # serverless mode: redundant OCUs in a second AZ

    @property
    def service(self) -> str:
        """The SigV4 service name the adapter signs with."""
        return "es" if self.mode == "domain" else "aoss"

    def validate(self, path: str) -> None:
        _require(self.mode in ("domain", "serverless"), f"{path}.mode", "domain or serverless")
        _require(re.fullmatch(r"[a-z][a-z0-9_-]{0,100}", self.index) is not None,
                 f"{path}.index", "lowercase letters, digits, - and _")
        if self.mode == "domain":
            _require(self.engine_version.startswith("OpenSearch_"), f"{path}.engine_version",
                     "like OpenSearch_2.19")
            _require(self.instance_type.endswith(".search"), f"{path}.instance_type",
                     "an OpenSearch instance type (*.search)")
            _require(self.instance_count >= 1, f"{path}.instance_count", ">= 1")
            _require(self.volume_gb >= 10, f"{path}.volume_gb", ">= 10")
            if self.zone_awareness:
                _require(self.instance_count % 2 == 0, f"{path}.instance_count",
                         "must be even with zone awareness (2 AZs)")


# Hugging Face organisations whose models are gated (a licence to accept, a token to download).
# Neither the endpoint nor the training jobs carry a hub token, so these need staged weights.
GATED_MODEL_PREFIXES = ("meta-llama/", "google/gemma", "mistralai/")
# Placeholders model.weights_s3_uri may contain, filled per stage (the account may be the
# deploying credentials' one, known only at deploy time).
WEIGHTS_PLACEHOLDERS = ("{account}", "{region}")


@dataclass(frozen=True)
class ModelConfig:
    model_id: str = "meta-llama/Meta-Llama-3-8B-Instruct"
    # LLaMA 3 is gated on the Hugging Face hub: stage the weights in S3 (e.g. copied from
    # SageMaker JumpStart after accepting the licence) and point this at the prefix. May
    # contain {account} and {region} (e.g. s3://noticebot-weights-{account}-{region}/...).
    weights_s3_uri: str = ""
    container: str = "lmi"  # "lmi" (DJL LMI / vLLM, adapter inference components) | "tgi"
    image_tag: str = "0.31.0-lmi13.0.0-cu124"
    image_uri: str = ""  # overrides the regional DLC image built from container + image_tag
    inference_ami_version: str = ""  # e.g. al2-ami-sagemaker-inference-gpu-3-1 (CUDA 12.4)
    instance_type: str = "ml.g5.2xlarge"
    max_instances: int = 1
    accelerators_per_copy: int = 1
    memory_mb_per_copy: int = 16384
    min_copies: int = 0  # 0 = scale to zero when idle (first request then waits for a copy)
    max_copies: int = 1
    invocations_per_copy_target: int = 4  # target tracking, per copy per minute
    max_loras: int = 8  # adapters resident on the GPU at once
    # (The largest adapter rank is not configuration: noticebot.domain.tuning.MAX_LORA_RANK,
    # the one number training and serving share.)
    max_model_len: int = 8192

    @property
    def scale_to_zero(self) -> bool:
        return self.min_copies == 0

    def validate(self, path: str) -> None:
        _require(self.container in ("lmi", "tgi"), f"{path}.container", "lmi or tgi")
        _require(self.instance_type.startswith("ml."), f"{path}.instance_type", "ml.*")
        _require(0 <= self.min_copies <= self.max_copies, path, "0 <= min_copies <= max_copies")
        _require(self.max_copies >= 1 and self.max_instances >= 1, path,
                 "max_copies and max_instances must be >= 1")
        _require(self.accelerators_per_copy >= 1, f"{path}.accelerators_per_copy", ">= 1")
        if self.weights_s3_uri:
            concrete = self.weights_s3_uri
            for placeholder in WEIGHTS_PLACEHOLDERS:
                concrete = concrete.replace(placeholder, "x")
            _require(re.fullmatch(r"s3://[a-z0-9.-]{3,63}/.+/", concrete) is not None
                     and "{" not in concrete, f"{path}.weights_s3_uri",
                     "an s3://bucket/prefix/ URI ending in / (placeholders: {account}, {region})")
        elif self.model_id.startswith(GATED_MODEL_PREFIXES):
            raise ConfigError(
                f"{path}.weights_s3_uri: required for {self.model_id}, a gated model: neither "
                "the endpoint nor the training jobs can download it from the Hugging Face hub "
                "(no token; the endpoint would retry for up to an hour, then roll the stack "
                "back). Stage the weights in S3 (cdk/README.md, 'Stage the model weights') and "
                "set the prefix here.")

    def weights_uri(self, *, account: str, region: str) -> str:
        """weights_s3_uri with its placeholders filled ("" when the weights are not staged)."""
        return self.weights_s3_uri.replace("{account}", account).replace("{region}", region)
        if self.image_uri:
            _require(".dkr.ecr." in self.image_uri and ":" in self.image_uri.split("/")[-1],
                     f"{path}.image_uri", "an ECR image URI with a tag")


MAX_TRAINING_RUNTIME_S = 28 * 24 * 3600  # SageMaker's limit for MaxRuntimeInSeconds


@dataclass(frozen=True)
class TrainingConfig:
    """Workspace fine-tunes (SageMaker training jobs). Defaults = noticebot.config.Settings'."""
    instance_type: str = "ml.g5.2xlarge"
    # The DLC repository training jobs pull from (the training role may pull only this one)
    # and its tag: the Hugging Face PyTorch training container of the stage's region.
    # The PyTorch training DLC: torch 2.6 on Python 3.12, what the pins in
    # sagemaker/training/requirements.txt are resolved against (tests/unit/training).
    image_repository: str = "pytorch-training"
    image_tag: str = "2.6.0-gpu-py312-cu126-ubuntu22.04-sagemaker"
    image_uri: str = ""  # overrides repository + tag (the role may then pull that repository)
    spot: bool = True  # managed spot training (checkpoints under the job's model prefix)
    max_runtime_s: int = 4 * 3600
    max_wait_s: int = 8 * 3600  # spot: waiting for capacity counts here; >= max_runtime_s

    def validate(self, path: str) -> None:
        _require(self.instance_type.startswith("ml."), f"{path}.instance_type", "ml.*")
        _require(re.fullmatch(r"[a-z0-9._/-]+", self.image_repository) is not None,
                 f"{path}.image_repository", "an ECR repository name")
        _require(bool(self.image_tag), f"{path}.image_tag", "required")
        if self.image_uri:
            _require(".dkr.ecr." in self.image_uri and ":" in self.image_uri.split("/")[-1],
                     f"{path}.image_uri", "an ECR image URI with a tag")
        _require(1 <= self.max_runtime_s <= MAX_TRAINING_RUNTIME_S, f"{path}.max_runtime_s",
                 f"1..{MAX_TRAINING_RUNTIME_S}")
        if self.spot:
            _require(self.max_runtime_s <= self.max_wait_s <= MAX_TRAINING_RUNTIME_S,
                     f"{path}.max_wait_s",
                     f"max_runtime_s..{MAX_TRAINING_RUNTIME_S} (spot waiting counts here)")


@dataclass(frozen=True)
class StageConfig:
    name: str
    region: str
    account: str = ""  # "" = the account of the credentials / the pipeline's account
    retain_data: bool = False  # keep bucket, table, key, search data when the stack goes
    log_retention_days: int = 30
    alarm_email: str = ""
    storage: StorageConfig = field(default_factory=StorageConfig)
    api: ApiConfig = field(default_factory=ApiConfig)
    auth: AuthConfig = field(default_factory=AuthConfig)
    functions: FunctionsConfig = field(default_factory=FunctionsConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    project: str = "noticebot"

    @property
    def prefix(self) -> str:
        """Physical-name prefix: `noticebot-dev`."""
        return f"{self.project}-{self.name}"

    def validate(self, path: str) -> None:
        _require(re.fullmatch(r"[a-z][a-z0-9]{1,11}", self.name) is not None, path,
                 "stage names are 2-12 lowercase letters/digits (they go into resource names)")
        # Training jobs are {prefix}-ft-{32 hex job id}; SageMaker allows 63 characters.
        _require(len(self.prefix) + len("-ft-") + 32 <= 63, path,
                 f"'{self.prefix}' is too long for fine-tune job names (project + stage <= 26)")
        _require(re.fullmatch(r"[a-z]{2}(-gov)?-[a-z]+-\d", self.region) is not None,
                 f"{path}.region", "an AWS region like us-east-1")
        _require(self.account == "" or re.fullmatch(r"\d{12}", self.account) is not None,
                 f"{path}.account", "12 digits or empty")
        _require(self.log_retention_days in _LOG_RETENTION_DAYS, f"{path}.log_retention_days",
                 f"one of CloudWatch's values {sorted(_LOG_RETENTION_DAYS)}")
        _require(self.alarm_email == "" or "@" in self.alarm_email, f"{path}.alarm_email",
                 "an e-mail address or empty")


_LOG_RETENTION_DAYS = {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096,
                       1827, 2192, 2557, 2922, 3288, 3653}


# The example ARN the project once shipped in cdk.json: a pipeline built on it fails at
# CreatePipeline, minutes into the deploy.
PLACEHOLDER_CONNECTION = re.compile(r".*:(111111111111|123456789012|000000000000):connection/"
                                    r"0{8}-0{4}-0{4}-0{4}-0{12}")
CONNECTION_PROVIDERS = ("GitHub", "GitHubEnterpriseServer", "GitLab", "GitLabSelfManaged",
                        "Bitbucket")


@dataclass(frozen=True)
class PipelineConfig:
    repository: str  # owner/name of the source repository behind the connection
    # A CodeConnections connection ARN, approved in the console; "" = the pipeline stack
    # creates one (pending until someone approves it: cdk/README.md, the operator's path).
    connection_arn: str = ""
    connection_provider: str = "GitHub"  # for a connection the stack creates
    branch: str = "main"
    account: str = ""
    region: str = "us-east-1"
    stages: tuple[str, ...] = ("dev", "prod")
    approval_before: tuple[str, ...] = ("prod",)  # a manual approval gates these stages

    def validate(self, path: str) -> None:
        _require(re.fullmatch(r"[\w.-]+/[\w.-]+", self.repository) is not None,
                 f"{path}.repository", "owner/name")
        if self.connection_arn:
            _require(re.fullmatch(r"arn:aws[\w-]*:(codestar-connections|codeconnections):"
                                  r"[\w-]+:\d{12}:connection/[\w-]+", self.connection_arn)
                     is not None, f"{path}.connection_arn", "a CodeConnections connection ARN")
            _require(PLACEHOLDER_CONNECTION.fullmatch(self.connection_arn) is None,
                     f"{path}.connection_arn",
                     "is the example placeholder, not a connection of yours: create and approve "
                     "a connection (Developer Tools > Connections) and put its ARN here, or "
                     'set "" and the pipeline stack creates one for you to approve')
        _require(self.connection_provider in CONNECTION_PROVIDERS,
                 f"{path}.connection_provider", f"one of {CONNECTION_PROVIDERS}")
        _require(bool(self.stages), f"{path}.stages", "at least one stage")


@dataclass(frozen=True)
class AppConfig:
    project: str
    lambda_assets: str
    stages: dict[str, StageConfig]
    pipeline: PipelineConfig

    def stage(self, name: str) -> StageConfig:
        if name not in self.stages:
            raise ConfigError(f"unknown stage {name!r}; configured: {sorted(self.stages)}")
        return self.stages[name]


def config_from_dict(raw: dict) -> AppConfig:
    """The `noticebot` context object -> AppConfig (raises ConfigError on any mistake)."""
    if not isinstance(raw, dict):
        raise ConfigError(f"context key {CONTEXT_KEY!r} is missing or not an object (cdk.json)")
    project = raw.get("project", "noticebot")
    _require(re.fullmatch(r"[a-z][a-z0-9-]{1,15}", project or "") is not None,
             f"{CONTEXT_KEY}.project", "2-16 lowercase letters, digits or -")
    stages_raw = raw.get("stages")
    _require(isinstance(stages_raw, dict) and stages_raw, f"{CONTEXT_KEY}.stages",
             "at least one stage")
    stages = {}
    for name, body in stages_raw.items():
        _require(isinstance(body, dict), f"{CONTEXT_KEY}.stages.{name}", "an object")
        stages[name] = _build(StageConfig, {**body, "name": name, "project": project},
                              f"{CONTEXT_KEY}.stages.{name}")
    pipeline = _build(PipelineConfig, raw.get("pipeline"), f"{CONTEXT_KEY}.pipeline")
    for name in (*pipeline.stages, *pipeline.approval_before):
        _require(name in stages, f"{CONTEXT_KEY}.pipeline", f"names unknown stage {name!r}")
    extra = set(raw) - {"project", "lambda_assets", "stages", "pipeline"}
    _require(not extra, CONTEXT_KEY, f"unknown key(s) {sorted(extra)}")
    return AppConfig(project=project, lambda_assets=raw.get("lambda_assets", "build/lambda"),
                     stages=stages, pipeline=pipeline)


def load_config(scope) -> AppConfig:
    """Reads the config from a construct's context (the App's, i.e. cdk.json)."""
    return config_from_dict(scope.node.try_get_context(CONTEXT_KEY))
