"""The embed function: bge-small (ONNX) and the ms-marco cross-encoder as a service for the
functions that must stay small.

Why a function of its own: the models and their runtime (onnxruntime, numpy, 2 x 34 MB of
weights) come to ~168 MB unzipped; inside the API function they would break its 50 MB budget
and slow every cold start of every route, though only search, chat and notices need a vector
or a rerank score. The API, chat and transcription functions invoke this one synchronously
(noticebot.adapters.aws.lambda_embedder, .lambda_reranker); the ingest function, which embeds
whole documents, keeps the embedder in process. All of them run the same model file, so the
index holds one kind of vector. Reranking is an operation of this function rather than a
function of its own: same runtime, no second alias to keep warm, no new grant.

Callers invoke the `live` alias (a published version), so provisioned concurrency, when the
stage asks for it, applies to exactly what they call. Nothing else may invoke it: the only
resource policy is the callers' IAM grants.
"""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct
from noticebot.functions import EMBED

from cdk.config import StageConfig
from cdk.constructs.function import ServiceFunction

ALIAS_NAME = "live"


class Embedding(Construct):
    """Exposes `function` (a ServiceFunction), `alias` and `invoke_arn` (the alias ARN callers
    put in NOTICEBOT_EMBED_FUNCTION)."""

    def __init__(self, scope: Construct, id: str, *, config: StageConfig, code: lambda_.Code,
                 environment: dict[str, str]) -> None:
        super().__init__(scope, id)
        functions = config.functions
        self.function = ServiceFunction(
            self, "Function", config=config, spec=EMBED, code=code,
            memory_mb=functions.embed_memory_mb, timeout_s=functions.embed_timeout_s,
            environment=environment)
        pc = functions.embed_provisioned_concurrency
        self.alias = lambda_.Alias(
            self, "Live", alias_name=ALIAS_NAME, version=self.function.function.current_version,
            provisioned_concurrent_executions=pc or None)
        self.invoke_arn = self.alias.function_arn

    def grant_invoke(self, role: iam.IRole) -> None:
        """lambda:InvokeFunction on the alias only (not $LATEST, not other versions)."""
        role.add_to_principal_policy(iam.PolicyStatement(
            sid="InvokeEmbedder", actions=["lambda:InvokeFunction"],
            resources=[self.alias.function_arn]))
