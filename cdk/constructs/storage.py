"""Storage: the tenant data bucket, its access-log bucket, the metadata table and their KMS key.

The bucket's key layout is noticebot.domain.keys (the services build every key with it); the
grants here scope to its prefixes: tenants/*/raw/*, tenants/*/datasets/*, tenants/*/models/*.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct
from noticebot.domain.keys import (
    DATASETS,
    MODELS,
    RAW,
    TENANTS_PREFIX,
    TEXTRACT_STAGING_PREFIX,
    TRANSCRIPTS_PREFIX,
    objects_of_every_workspace,
)

from cdk.config import StageConfig
from cdk.nag import acknowledge_wildcard

RAW_KEYS = objects_of_every_workspace(RAW)
DATASET_KEYS = objects_of_every_workspace(DATASETS)
MODEL_KEYS = objects_of_every_workspace(MODELS)
TTL_ATTRIBUTE = "ttl"
# What the metadata adapter may do on the table (noticebot.adapters.aws.dynamodb_*): item reads
# and writes, never Scan.
TABLE_ITEM_ACTIONS = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query",
                      "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                      "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem",
                      "dynamodb:DescribeTable")
# The one secondary index the DynamoDB adapter queries (noticebot.adapters.aws.dynamodb_items
# .TABLE_SCHEMA): documents/jobs by a second key, still per workspace in its key values.
GSI1 = "gsi1"
TENANT_WILDCARD_REASON = (
    "Workspaces are created at run time, so the workspace segment of tenants/{workspace}/... is a "
    "wildcard; the services build every key from the caller's token (noticebot.domain.keys), "
    "and the grant is limited to the one key kind this principal handles.")


class Storage(Construct):
    """Exposes `key`, `bucket`, `access_log_bucket`, `table`, and the grants on key prefixes."""

    def __init__(self, scope: Construct, id: str, *, config: StageConfig) -> None:
        super().__init__(scope, id)
        removal = cdk.RemovalPolicy.RETAIN if config.retain_data else cdk.RemovalPolicy.DESTROY
        stack = cdk.Stack.of(self)

        # One customer-managed key for the stage's data at rest (bucket, table, search, topic):
        # its key policy and CloudTrail record every use, and revoking it cuts off all of it.
        self.key = kms.Key(
            self, "Key", alias=f"alias/{config.prefix}-data", enable_key_rotation=True,
            description=f"{config.prefix}: tenant data at rest", removal_policy=removal,
            pending_window=cdk.Duration.days(30 if config.retain_data else 7))

        # S3 server access logs must go to an SSE-S3 bucket (log delivery cannot use SSE-KMS).
        self.access_log_bucket = s3.Bucket(
            self, "AccessLogs", encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL, enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(id="expire-access-logs",
                                              expiration=cdk.Duration.days(config.log_retention_days))],
            removal_policy=removal, auto_delete_objects=False)

        cors = []
        if config.storage.cors_origins:
            # The web build of the app POSTs presigned uploads straight to S3.
            cors.append(s3.CorsRule(allowed_methods=[s3.HttpMethods.POST],
                                    allowed_origins=list(config.storage.cors_origins),
                                    allowed_headers=["*"], max_age=600))
        # An explicit name: the upload rule matches it (see Ingestion), and it is the stage's
        # Transcribe job prefix (noticebot.domain.keys.transcription_job_prefix).
        self.bucket_physical_name = f"{config.prefix}-data-{stack.account}-{stack.region}"
        self.bucket = s3.Bucket(
            self, "Data", bucket_name=self.bucket_physical_name,
            encryption=s3.BucketEncryption.KMS, encryption_key=self.key, bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL, enforce_ssl=True,
            minimum_tls_version=1.2,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            server_access_logs_bucket=self.access_log_bucket, server_access_logs_prefix="data/",
            cors=cors or None,
            lifecycle_rules=[
                s3.LifecycleRule(id="abort-incomplete-uploads",
                                 abort_incomplete_multipart_upload_after=cdk.Duration.days(1)),
                # Scratch copies for Textract are deleted after use; this catches leftovers.
                s3.LifecycleRule(id="expire-textract-staging", prefix=TEXTRACT_STAGING_PREFIX,
                                 expiration=cdk.Duration.days(1),
                                 noncurrent_version_expiration=cdk.Duration.days(1)),
                # Transcripts are read once, when ingestion resumes; they hold tenant content
                # outside tenants/, so they do not outlive a week.
                s3.LifecycleRule(id="expire-transcripts", prefix=TRANSCRIPTS_PREFIX,
                                 expiration=cdk.Duration.days(7),
                                 noncurrent_version_expiration=cdk.Duration.days(1)),
                # Deleting a document deletes its upload; the old version is kept only this long.
                s3.LifecycleRule(id="expire-deleted-uploads", prefix=TENANTS_PREFIX,
                                 noncurrent_version_expiration=cdk.Duration.days(
                                     config.storage.noncurrent_version_days),
                                 expired_object_delete_marker=True),
                # Raw uploads are read once (ingest) and then rarely: Intelligent-Tiering moves
                # cold ones to cheaper tiers. Objects under 128 KB are never tiered, so skip them.
                s3.LifecycleRule(id="tier-raw-uploads", prefix=TENANTS_PREFIX,
                                 object_size_greater_than=128 * 1024,
                                 transitions=[s3.Transition(
                                     storage_class=s3.StorageClass.INTELLIGENT_TIERING,
                                     transition_after=cdk.Duration.days(
                                         config.storage.raw_infrequent_access_days))]),
            ],
            removal_policy=removal)
        # CloudFormation's schema types ObjectSizeGreaterThan as a string; CDK writes a number.
        # (Rule 4 = tier-raw-uploads, the last rule above; tests/cdk checks the rendered rule.)
        self.bucket.node.default_child.add_property_override(
            "LifecycleConfiguration.Rules.4.ObjectSizeGreaterThan", str(128 * 1024))

        self.table = dynamodb.TableV2(
            self, "Table",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            billing=dynamodb.Billing.on_demand(),
            encryption=dynamodb.TableEncryptionV2.customer_managed_key(self.key),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True),
            time_to_live_attribute=TTL_ATTRIBUTE,
            global_secondary_indexes=[dynamodb.GlobalSecondaryIndexPropsV2(
                index_name=GSI1,
                partition_key=dynamodb.Attribute(name="gsi1pk", type=dynamodb.AttributeType.STRING),
                sort_key=dynamodb.Attribute(name="gsi1sk", type=dynamodb.AttributeType.STRING),
                projection_type=dynamodb.ProjectionType.ALL)],
            deletion_protection=config.retain_data,
            removal_policy=removal)

    # ---- grants: explicit actions, each naming the key prefixes a function may touch -----
    # Tenant prefixes are dynamic (one per workspace), so object ARNs end in wildcards such as
    # tenants/*/raw/*; the workspace segment is enforced by the services, which build every key
    # from the caller's token (noticebot.domain.keys.raw_key).
    def _objects(self, pattern: str) -> str:
        return self.bucket.arn_for_objects(pattern)

    def _key_use(self, grantee: iam.IGrantable, sid: str, actions: list[str]) -> None:
        grantee.grant_principal.add_to_principal_policy(iam.PolicyStatement(
            sid=sid, actions=actions, resources=[self.key.key_arn]))

    def grant_raw_read(self, grantee: iam.IGrantable) -> None:
        """Ingest: read uploads."""
        grantee.grant_principal.add_to_principal_policy(iam.PolicyStatement(
            sid="ReadRawUploads", actions=["s3:GetObject"], resources=[self._objects(RAW_KEYS)]))
        acknowledge_wildcard(grantee, self._objects(RAW_KEYS), TENANT_WILDCARD_REASON)
        self._key_use(grantee, "DecryptData", ["kms:Decrypt"])

    def grant_raw_write(self, grantee: iam.IGrantable) -> None:
        """API: write (direct and presigned uploads), read back and delete uploads."""
        grantee.grant_principal.add_to_principal_policy(iam.PolicyStatement(
            sid="WriteRawUploads",
            actions=["s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
            resources=[self._objects(RAW_KEYS)]))
        acknowledge_wildcard(grantee, self._objects(RAW_KEYS), TENANT_WILDCARD_REASON)
        # SSE-KMS with a bucket key: writers need GenerateDataKey, readers Decrypt.
        self._key_use(grantee, "EncryptDecryptData", ["kms:Decrypt", "kms:GenerateDataKey"])

    def grant_objects(self, grantee: iam.IGrantable, sid: str, prefix: str,
                      actions: list[str]) -> None:
        """Object actions under one fixed (non-tenant) working prefix, plus the data key."""
        grantee.grant_principal.add_to_principal_policy(iam.PolicyStatement(
            sid=sid, actions=actions, resources=[self._objects(f"{prefix}*")]))
        acknowledge_wildcard(grantee, self._objects(f"{prefix}*"),
                             f"Objects under the {prefix} working prefix are named per job "
                             "(uuid or document id); the grant covers that prefix only.")
        self._key_use(grantee, f"DataKeyFor{sid}", ["kms:Decrypt", "kms:GenerateDataKey"])

    def grant_tenant_objects(self, grantee: iam.IGrantable, sid: str, keys: str,
                             actions: list[str], reason: str) -> None:
        """Object actions on one tenant key kind of every workspace (DATASET_KEYS, MODEL_KEYS),
        plus the data key (SSE-KMS: writers need GenerateDataKey, readers Decrypt)."""
        if keys not in (DATASET_KEYS, MODEL_KEYS):
            raise ValueError(f"not a tenant key kind: {keys!r}")
        grantee.grant_principal.add_to_principal_policy(iam.PolicyStatement(
            sid=sid, actions=actions, resources=[self._objects(keys)]))
        acknowledge_wildcard(grantee, self._objects(keys), reason)
        self._key_use(grantee, f"DataKeyFor{sid}", ["kms:Decrypt", "kms:GenerateDataKey"])

    def grant_raw_prefix_listing(self, grantee: iam.IGrantable) -> None:
        """API: deleting a document lists and deletes its upload prefix
        (tenants/{ws}/raw/{doc}/); listing is limited to raw upload prefixes."""
        grantee.grant_principal.add_to_principal_policy(iam.PolicyStatement(
            sid="ListRawUploads", actions=["s3:ListBucket"], resources=[self.bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [RAW_KEYS]}}))

    def grant_table_items(self, grantee: iam.IGrantable, actions: list[str]) -> None:
        """Some item actions on the table itself (no index, no Scan): for a function whose
        adapter calls are few and known. The table key: Decrypt (DynamoDB unwraps the table's
        key for the caller) and DescribeKey, nothing that makes new keys."""
        unknown = set(actions) - set(TABLE_ITEM_ACTIONS)
        if unknown:
            raise ValueError(f"not table item actions: {sorted(unknown)}")
        grantee.grant_principal.add_to_principal_policy(iam.PolicyStatement(
            sid="TableItems", actions=list(actions), resources=[self.table.table_arn]))
        self._key_use(grantee, "TableKey", ["kms:Decrypt", "kms:DescribeKey"])

    def grant_table(self, grantee: iam.IGrantable) -> None:
        """Item reads and writes on this table and its gsi1 only. No Scan: every access is a
        key lookup or a Query on one workspace's partition, never a sweep of all tenants."""
        gsi = f"{self.table.table_arn}/index/{GSI1}"
        grantee.grant_principal.add_to_principal_policy(iam.PolicyStatement(
            sid="TableItems", actions=list(TABLE_ITEM_ACTIONS), resources=[self.table.table_arn]))
        grantee.grant_principal.add_to_principal_policy(iam.PolicyStatement(
            sid="TableIndexQueries", actions=["dynamodb:Query"], resources=[gsi]))
        self._key_use(grantee, "TableKey", ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt",
                                            "kms:GenerateDataKey"])
