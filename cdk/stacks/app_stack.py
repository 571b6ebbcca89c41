"""The application stack of one stage: composes the capability constructs and issues the grants.

Grants (least privilege; what each principal may reach):

    api function     table items + gsi1 queries (no Scan); uploads tenants/*/raw/* (put/get/
                     delete, list raw prefixes) + the data key; the chunk index (read/write/
                     create); invoke the LLM endpoint (base and this stage's adapter components)
    ingest function  table items (no Scan); uploads tenants/*/raw/* (get) + decrypt; the chunk
                     index; its queue (receive/delete); Textract + textract-staging/*;
                     Transcribe jobs + transcripts/*
    transcription    table items; the chunk index; transcripts/* (get); GetTranscriptionJob
    endpoint role    its DLC image, tenants/*/models/* (adapters), its own logs
    training role    tenants/*/datasets/* (read), tenants/*/models/* (write), its image, its logs
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from cdk.assets import EMBED_MODEL_DIR, lambda_code
from cdk.config import StageConfig
from cdk.constructs.api import Api
from cdk.constructs.ingestion import Ingestion
from cdk.constructs.models import Models
from cdk.constructs.monitoring import Monitoring
from cdk.constructs.search import Search
from cdk.constructs.storage import Storage
from cdk.constructs.training import Training


def function_environment(config: StageConfig, storage: Storage, search: Search, models: Models,
                         service: str) -> dict[str, str]:
    """The environment contract the AWS adapters read (noticebot.bootstrap, mode aws)."""
    return {
        "NOTICEBOT_MODE": "aws",
        "NOTICEBOT_BUCKET": storage.bucket.bucket_name,
        "NOTICEBOT_KMS_KEY_ID": storage.key.key_arn,
        "NOTICEBOT_TABLE": storage.table.table_name,
        "NOTICEBOT_SEARCH_ENDPOINT": search.endpoint,
        "NOTICEBOT_SEARCH_SERVICE": search.service,
        "NOTICEBOT_SEARCH_INDEX": search.index,
        "NOTICEBOT_CHAT_ENDPOINT": models.endpoint_name,
        "NOTICEBOT_CHAT_COMPONENT": models.base_component_name,
        "NOTICEBOT_EMBED_MODEL_DIR": EMBED_MODEL_DIR,
        "NOTICEBOT_MAX_UPLOAD_BYTES": str(config.functions.max_upload_bytes),
        "NOTICEBOT_PRESIGNED_MAX_BYTES": str(config.functions.presigned_max_bytes),
        "POWERTOOLS_SERVICE_NAME": f"{config.project}-{service}",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }


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

        def env(service: str) -> dict[str, str]:
            return function_environment(config, self.storage, self.search, self.models, service)

        self.ingestion = Ingestion(
            self, "Ingestion", config=config, storage=self.storage,
            code=lambda_code(self, "ingest", assets_root), environment=env("ingest"),
            transcription_code=lambda_code(self, "transcription", assets_root),
            transcription_environment=env("transcription"))
        self.api = Api(self, "Api", config=config, code=lambda_code(self, "api", assets_root),
                       environment=env("api"))

        api_fn, ingest_fn = self.api.function, self.ingestion.function
        transcription_fn = self.ingestion.transcription
        # API: metadata, uploads (direct + presigned), search index, the chat model.
        self.storage.grant_table(api_fn.role)
        self.storage.grant_raw_write(api_fn.role)
        self.storage.grant_raw_prefix_listing(api_fn.role)
        self.search.grant_index_read_write(api_fn.role)
        self.models.grant_invoke(api_fn.role)
        # Ingest: metadata (document status), read uploads, write chunks. Its queue grant comes
        # with the event source.
        self.storage.grant_table(ingest_fn.role)
        self.storage.grant_raw_read(ingest_fn.role)
        self.search.grant_index_read_write(ingest_fn.role)
        # Transcription: document status, transcript chunks into the index.
        self.storage.grant_table(transcription_fn.role)
        self.search.grant_index_read_write(transcription_fn.role)
        self.search.finalize_access()
        # NOT YET: the fine-tune route and deploy function (issue 6) will call
        # self.training.grant_launch(api_fn.role) and self.training.add_deploy_target(deploy_fn).

        self.monitoring = Monitoring(
            self, "Monitoring", config=config, key=self.storage.key, api=self.api,
            ingestion=self.ingestion, functions=[api_fn, ingest_fn, transcription_fn],
            models=self.models,
            search=self.search)

        for name, value, description in (
            ("ApiUrl", f"{self.api.url}api/", "Base URL of the /api routes"),
            ("UserPoolId", self.api.user_pool.user_pool_id, "Cognito user pool"),
            ("UserPoolClientId", self.api.client.user_pool_client_id, "Mobile app client"),
            ("BucketName", self.storage.bucket.bucket_name, "Tenant data bucket"),
            ("TableName", self.storage.table.table_name, "Metadata table"),
            ("SearchEndpoint", self.search.endpoint, "OpenSearch endpoint"),
            ("ChatEndpoint", self.models.endpoint_name, "SageMaker endpoint"),
            ("ChatBaseComponent", self.models.base_component_name, "Base inference component"),
            ("TrainingRoleArn", self.training.role.role_arn, "SageMaker training role"),
            ("ModelPackageGroup", self.training.model_package_group_name, "Adapter registry"),
            ("AlarmTopicArn", self.monitoring.topic.topic_arn, "Alarm notifications"),
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
