"""The application stack of one stage: composes the capability constructs and issues the grants.

Grants (least privilege; what each principal may reach):

    api function     table items + gsi1 queries (no Scan); uploads tenants/*/raw/* (put/get/
                     delete, list raw prefixes) + the data key; the chunk index (read/write/
                     create); invoke the LLM endpoint (base and this stage's adapter components);
                     invoke the embed function (query and notice vectors, reranking);
                     fine-tunes: datasets tenants/*/datasets/* (put), this stage's training jobs
                     (create/describe/stop/tag) and iam:PassRole of the training role only;
                     approve this stage's adapter packages (manual activation); members and
                     invitations: the user pool's users (create/get/delete/disable/sign out,
                     the editors group, ListUsers); send to the notify queue
    deploy function  table items; adapters tenants/*/models/* (get model.tar.gz, put
                     metrics.json) + the data key; DescribeTrainingJob ({prefix}-ft-*); model
                     packages of {prefix}-adapters (create/describe/tag); adapter components
                     {prefix}-llm-ft-* on the endpoint (create/describe/delete/tag); its DLQ
    ingest function  table items (no Scan); uploads tenants/*/raw/* (get) + decrypt; the chunk
                     index; its queue (receive/delete); Textract + textract-staging/*;
                     Transcribe jobs + transcripts/*
    transcription    table items; the chunk index; transcripts/* (get); GetTranscriptionJob;
                     invoke the embed function
    chat function    POST /api/chat (streamed): table items + gsi1 queries (conversations,
                     models); search the chunk index (no writes); invoke the LLM endpoint;
                     invoke the embed function (query vector, reranking). No S3, no fine-tunes.
    notify function  table GetItem/Query/DeleteItem (no index, no writes but removing devices
                     Expo reports gone) + Decrypt/DescribeKey of the data key; its queue
                     (receive/delete, and send: its own delayed receipt checks); GetSecretValue of the Expo token secret + Decrypt of its
                     key through Secrets Manager
    embed function   nothing but its own logs: texts in, vectors out, passages in, scores out
                     (the API, chat and transcription functions may invoke its `live` alias;
                     nobody else)
    endpoint role    its DLC image, tenants/*/models/* (adapters), its own logs
    training role    tenants/*/datasets/* (read), tenants/*/models/* (write), its image, its logs,
                     the training source object (and the staged base weights, if configured)
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct
from noticebot.environment import EnvVar, PowertoolsEnv
from noticebot.functions import (
    API,
    CHAT,
    DEPLOY,
    EMBED,
    EMBED_MODEL_DIR,
    INGEST,
    NOTIFY,
    TRANSCRIPTION,
    LambdaFunction,
)

from cdk.assets import lambda_code
from cdk.config import StageConfig
from cdk.constructs.api import Api
from cdk.constructs.embedding import Embedding
from cdk.constructs.function import ServiceFunction
from cdk.constructs.ingestion import MAX_RECEIVE_COUNT, Ingestion
from cdk.constructs.models import Models
from cdk.constructs.monitoring import Monitoring
from cdk.constructs.notifications import Notifications
from cdk.constructs.search import Search
from cdk.constructs.storage import DATASET_KEYS, MODEL_KEYS, Storage
from cdk.constructs.training import Training

# What the notify function's metadata calls are (noticebot.services.notifications.deliver and
# check_receipts: get_notice, list_inboxes / list_members / list_devices, delete_device), and
# nothing more.
NOTIFY_TABLE_ACTIONS = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:DeleteItem"]


def stage_environment(config: StageConfig, storage: Storage, search: Search,
                      models: Models) -> dict[str, str]:
    """The values of the stage's variables (noticebot.environment) every function may be given;
    each function gets the names its manifest entry lists (`environment_for`)."""
    return {
        EnvVar.MODE: "aws",
        EnvVar.BUCKET: storage.bucket.bucket_name,
        EnvVar.KMS_KEY_ID: storage.key.key_arn,
        EnvVar.TABLE: storage.table.table_name,
        EnvVar.SEARCH_ENDPOINT: search.endpoint,
        EnvVar.SEARCH_SERVICE: search.service,
        EnvVar.SEARCH_INDEX: search.index,
        EnvVar.CHAT_ENDPOINT: models.endpoint_name,
        EnvVar.CHAT_COMPONENT: models.base_component_name,
        EnvVar.EMBED_MODEL_DIR: EMBED_MODEL_DIR,
        EnvVar.MAX_UPLOAD_BYTES: str(config.functions.max_upload_bytes),
        EnvVar.PRESIGNED_MAX_BYTES: str(config.functions.presigned_max_bytes),
        # One ingest attempt's time budget (= the ingest function's timeout: the lease an
        # attempt holds on its document) and the upload queue's maxReceiveCount (a failure on
        # the last delivery fails the document). The API reads both too, to tell a stuck
        # document (retried on re-upload, failed once its last attempt ran out) from a busy one.
        EnvVar.INGEST_TIMEOUT_S: str(config.functions.ingest_timeout_s),
        EnvVar.INGEST_MAX_RECEIVES: str(MAX_RECEIVE_COUNT),
        PowertoolsEnv.LOG_LEVEL: "INFO",
    }


def environment_for(spec: LambdaFunction, values: dict[str, str],
                    config: StageConfig) -> dict[str, str]:
    """The variables spec's manifest entry names, with this stage's values."""
    values = {**values, PowertoolsEnv.SERVICE_NAME: f"{config.project}-{spec.name}"}
    wanted = spec.environment | spec.optional_environment
    return {name: value for name, value in values.items() if name in wanted}


class NoticebotStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig, assets_root: str,
                 **kwargs) -> None:
        super().__init__(scope, id, description=f"{config.prefix}: notice board + RAG chatbot",
                         termination_protection=config.retain_data, **kwargs)
        self.config = config
        self.storage = Storage(self, "Storage", config=config)
        self.search = Search(self, "Search", config=config, storage=self.storage)
        self.models = Models(self, "Models", config=config, storage=self.storage)
        self.training = Training(self, "Training", config=config, storage=self.storage)

        values = stage_environment(config, self.storage, self.search, self.models)
        self.embedding = Embedding(self, "Embedding", config=config,
                                   code=lambda_code(self, EMBED.name, assets_root),
                                   environment=environment_for(EMBED, values, config))
        # Vectors from the embed function, for those whose bundle carries only the tokenizer.
        values[EnvVar.EMBED_FUNCTION] = self.embedding.invoke_arn
        values.update(self.training.environment(adapter_image=self.models.image_uri))

        def env(spec: LambdaFunction) -> dict[str, str]:
            return environment_for(spec, values, config)

        def code(spec: LambdaFunction):
            return lambda_code(self, spec.name, assets_root)

        # Before the API: its function is given the notify queue's URL.
        self.notifications = Notifications(
            self, "Notifications", config=config, key=self.storage.key, code=code(NOTIFY),
            environment=env(NOTIFY))
        values[EnvVar.NOTIFY_QUEUE_URL] = self.notifications.queue.queue_url

        self.ingestion = Ingestion(
            self, "Ingestion", config=config, storage=self.storage,
            code=code(INGEST), environment=env(INGEST),
            transcription_code=code(TRANSCRIPTION),
            transcription_environment=env(TRANSCRIPTION))
        self.api = Api(self, "Api", config=config, code=code(API), environment=env(API),
                       chat_code=code(CHAT), chat_environment=env(CHAT))
        # Fine-tune completion (EventBridge): register the adapter, create its inference
        # component, activate it by the loss rule (noticebot.services.models.complete_training).
        self.deploy = ServiceFunction(
            self, "Deploy", config=config, spec=DEPLOY, code=code(DEPLOY),
            memory_mb=config.functions.deploy_memory_mb,
            timeout_s=config.functions.deploy_timeout_s, environment=env(DEPLOY))

        api_fn, ingest_fn, chat_fn = self.api.function, self.ingestion.function, \
            self.api.chat_function
        transcription_fn, deploy_fn = self.ingestion.transcription, self.deploy
        # API: metadata, uploads (direct + presigned), search index, the chat model.
        self.storage.grant_table(api_fn.role)
        self.storage.grant_raw_write(api_fn.role)
        self.storage.grant_raw_prefix_listing(api_fn.role)
        self.search.grant_index_read_write(api_fn.role)
        self.models.grant_invoke(api_fn.role)
        self.embedding.grant_invoke(api_fn.role)
        # Members and invitations (the stage's Cognito users); posts and new pins announced.
        self.api.grant_manage_users(api_fn.role)
        self.notifications.grant_publish(api_fn.role)
        # Ingest: metadata (document status), read uploads, write chunks. Its queue grant comes
        # with the event source.
        self.storage.grant_table(ingest_fn.role)
        self.storage.grant_raw_read(ingest_fn.role)
        self.search.grant_index_read_write(ingest_fn.role)
        # Transcription: document status, transcript chunks into the index.
        self.storage.grant_table(transcription_fn.role)
        self.search.grant_index_read_write(transcription_fn.role)
        self.embedding.grant_invoke(transcription_fn.role)
        # Chat (streamed): conversations and model choice, retrieval, reranking, the model.
        self.storage.grant_table(chat_fn.role)
        self.search.grant_index_search(chat_fn.role)
        self.models.grant_invoke(chat_fn.role)
        self.embedding.grant_invoke(chat_fn.role)
        # Notify: the notice, the roster, mutes and devices (GetItem, Query), and devices Expo
        # reports gone (DeleteItem); its queue and token grants come with the construct.
        self.storage.grant_table_items(self.notifications.function.role, NOTIFY_TABLE_ACTIONS)
        self.search.finalize_access()  # the deploy function never touches the index
        # Fine-tunes, API side: write the dataset, then start (watch, stop) the training job.
        self.storage.grant_tenant_objects(
            api_fn.role, "WriteDatasets", DATASET_KEYS, ["s3:PutObject"],
            "Fine-tune datasets are written to tenants/{workspace}/datasets/{job}/ for the "
            "caller's workspace (noticebot.domain.keys.dataset_key); workspaces are "
            "created at run time, so the workspace segment is a wildcard. Write only.")
        self.training.grant_launch(api_fn.role)
        self.training.grant_approve(api_fn.role)  # manual activation approves the package
        # Fine-tunes, deploy side: job records, the adapter's artifact and metrics, the model
        # package, the adapter component. The rule delivers to it (retries, then a DLQ).
        self.storage.grant_table(deploy_fn.role)
        self.storage.grant_tenant_objects(
            deploy_fn.role, "ReadWriteAdapters", MODEL_KEYS, ["s3:GetObject", "s3:PutObject"],
            "The deploy function reads a finished job's model.tar.gz (metrics.json) and writes "
            "the version's metrics.json under tenants/{workspace}/models/; the workspace comes "
            "from the job's tags and output path, so the segment is a wildcard.")
        self.models.grant_adapter_deployment(deploy_fn.role)
        self.deploy_dead_letters = self.training.add_deploy_target(deploy_fn.function)

        self.monitoring = Monitoring(
            self, "Monitoring", config=config, key=self.storage.key, api=self.api,
            ingestion=self.ingestion, functions=[api_fn, chat_fn, ingest_fn, transcription_fn,
                                          deploy_fn, self.embedding.function,
                                          self.notifications.function],
            models=self.models, search=self.search,
            deploy_dead_letters=self.deploy_dead_letters,
            notify_dead_letters=self.notifications.dead_letter_queue)

        for name, value, description in (
            ("ApiUrl", f"{self.api.url}api/", "Base URL of the /api routes"),
            ("UserPoolId", self.api.user_pool.user_pool_id, "Cognito user pool"),
            ("UserPoolClientId", self.api.client.user_pool_client_id, "Mobile app client"),
            ("HostedUiDomain", cdk.Fn.select(2, cdk.Fn.split("/", self.api.domain.base_url())),
             "Cognito hosted sign-in domain (the app's EXPO_PUBLIC_COGNITO_DOMAIN)"),
            ("BucketName", self.storage.bucket.bucket_name, "Tenant data bucket"),
            ("TableName", self.storage.table.table_name, "Metadata table"),
            ("SearchEndpoint", self.search.endpoint, "OpenSearch endpoint"),
            ("ChatEndpoint", self.models.endpoint_name, "SageMaker endpoint"),
            ("ChatBaseComponent", self.models.base_component_name, "Base inference component"),
            ("TrainingRoleArn", self.training.role.role_arn, "SageMaker training role"),
            ("ModelPackageGroup", self.training.model_package_group_name, "Adapter registry"),
            ("TrainingSource", self.training.source.s3_object_url,
             "Training jobs' source (sourcedir.tar.gz)"),
            ("AlarmTopicArn", self.monitoring.topic.topic_arn, "Alarm notifications"),
            ("ExpoTokenSecret", self.notifications.token_secret_name,
             "Secrets Manager secret for the Expo access token (set outside CDK)"),
        ):
            cdk.CfnOutput(self, name, value=value, description=description)


class NoticebotStage(cdk.Stage):
    """One deployment (dev, prod, ...): the application stack, named {prefix}-app."""

    def __init__(self, scope: Construct, id: str, *, config: StageConfig, assets_root: str,
                 **kwargs) -> None:
        env = cdk.Environment(account=config.account or None, region=config.region)
        super().__init__(scope, id, env=env, **kwargs)
        self.app_stack = NoticebotStack(self, "App", config=config, assets_root=assets_root,
                                        stack_name=f"{config.prefix}-app")
        cdk.Tags.of(self).add("project", config.project)
        cdk.Tags.of(self).add("stage", config.name)
