"""Search: an OpenSearch Service domain or an OpenSearch Serverless vector collection (config).

Both modes: encrypted with the stage's KMS key, HTTPS only, reachable only with SigV4-signed
requests from the roles granted here, and scoped to the configured index (name prefix, so
versioned indices such as noticebot-chunks-v2 and aliases work):

    domain     domain access policy + identity policy on domain/NAME/INDEX*, INDEX*/*, the
               index's template (_index_template/INDEX*) and search pipelines; nothing at the
               root. The adapter sends `POST /INDEX/_bulk` and `POST /INDEX/_msearch` with no
               index in the body lines, and the domain sets
               rest.action.multi.allow_explicit_index=false: IAM sees only the path, so without
               that setting a body line could name any index behind a path granted here.
    serverless data access policy on index/COLLECTION/INDEX* + aoss:APIAccessAll on the collection

A role that only searches (the chat function: its searches are `POST /INDEX/_msearch`, and a
missing index reads as empty, so it never creates one) gets `grant_index_search`: GET/POST on
INDEX*/_search and INDEX*/_msearch (domain), aoss:ReadDocument (serverless).

The index (mapping: k-NN HNSW vector + BM25 text + workspace keyword) is created by the
OpenSearch adapter on first use; the grants include index creation for that reason.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_opensearchserverless as aoss
from aws_cdk import aws_opensearchservice as opensearch
from constructs import Construct

from cdk.config import StageConfig
from cdk.constructs.function import retention
from cdk.constructs.storage import Storage
from cdk.nag import acknowledge, acknowledge_wildcard

ES_HTTP_ACTIONS = ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut",
                   "es:ESHttpDelete"]
ES_SEARCH_ACTIONS = ["es:ESHttpGet", "es:ESHttpPost"]
SEARCH_APIS = ("_search", "_msearch")
AOSS_INDEX_PERMISSIONS = ["aoss:CreateIndex", "aoss:DescribeIndex", "aoss:UpdateIndex",
                          "aoss:ReadDocument", "aoss:WriteDocument"]
TLS_POLICY = "Policy-Min-TLS-1-2-PFS-2023-10"


class Search(Construct):
    """Exposes `mode`, `service` ("es" | "aoss"), `endpoint` (https://...), `index`,
    `domain` or `collection`, `grant_index_read_write(role)` and `grant_index_search(role)`."""

    def __init__(self, scope: Construct, id: str, *, config: StageConfig, storage: Storage) -> None:
        super().__init__(scope, id)
        self.config = config.search
        self.mode = config.search.mode
        self.service = config.search.service
        self.index = config.search.index
        self.name = config.prefix  # domain / collection name (3-28 chars, lowercase)
        self._principals: list[iam.IRole] = []
        self._searchers: list[iam.IRole] = []
        self.domain: opensearch.CfnDomain | None = None
        self.collection: aoss.CfnCollection | None = None
        self._retain = config.retain_data
        if self.mode == "domain":
            self._domain(config, storage)
        else:
            self._collection(config, storage)

    # ---- OpenSearch Service domain ------------------------------------------------------------
    def _domain(self, config: StageConfig, storage: Storage) -> None:
        stack = cdk.Stack.of(self)
        c = config.search
        removal = cdk.RemovalPolicy.RETAIN if config.retain_data else cdk.RemovalPolicy.DESTROY
        self.domain_arn = stack.format_arn(service="es", resource="domain", resource_name=self.name)
        log_groups = {}
        for kind, suffix in (("SEARCH_SLOW_LOGS", "search-slow"), ("INDEX_SLOW_LOGS", "index-slow"),
                             ("ES_APPLICATION_LOGS", "application")):
            log_groups[kind] = logs.LogGroup(
                self, f"Logs{suffix.title().replace('-', '')}",
                log_group_name=f"/aws/opensearch/{self.name}/{suffix}",
                retention=retention(config.log_retention_days), removal_policy=removal)
        # OpenSearch writes its logs through a CloudWatch Logs resource policy (account-wide,
        # up to 10 per region), limited to these groups and to this domain.
        log_policy = logs.CfnResourcePolicy(
            self, "LogsPolicy", policy_name=f"{self.name}-opensearch-logs",
            policy_document=stack.to_json_string({
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "OpenSearchLogs", "Effect": "Allow",
                    "Principal": {"Service": "es.amazonaws.com"},
                    "Action": ["logs:PutLogEvents", "logs:CreateLogStream"],
                    "Resource": [g.log_group_arn for g in log_groups.values()],
                    "Condition": {"StringEquals": {"aws:SourceAccount": stack.account},
                                  "ArnLike": {"aws:SourceArn": self.domain_arn}},
                }]}))
        cluster = opensearch.CfnDomain.ClusterConfigProperty(
            instance_type=c.instance_type, instance_count=c.instance_count,
            dedicated_master_enabled=bool(c.dedicated_master_type),
            dedicated_master_type=c.dedicated_master_type or None,
            dedicated_master_count=3 if c.dedicated_master_type else None,
            zone_awareness_enabled=c.zone_awareness,
            zone_awareness_config=opensearch.CfnDomain.ZoneAwarenessConfigProperty(
                availability_zone_count=2) if c.zone_awareness else None,
            multi_az_with_standby_enabled=False)
        self.domain = opensearch.CfnDomain(
            self, "Domain", domain_name=self.name, engine_version=c.engine_version,
            cluster_config=cluster,
            ebs_options=opensearch.CfnDomain.EBSOptionsProperty(
                ebs_enabled=True, volume_type="gp3", volume_size=c.volume_gb),
            encryption_at_rest_options=opensearch.CfnDomain.EncryptionAtRestOptionsProperty(
                enabled=True, kms_key_id=storage.key.key_id),
            node_to_node_encryption_options=opensearch.CfnDomain.NodeToNodeEncryptionOptionsProperty(
                enabled=True),
            domain_endpoint_options=opensearch.CfnDomain.DomainEndpointOptionsProperty(
                enforce_https=True, tls_security_policy=TLS_POLICY),
            log_publishing_options={
                kind: opensearch.CfnDomain.LogPublishingOptionProperty(
                    cloud_watch_logs_log_group_arn=g.log_group_arn, enabled=True)
                for kind, g in log_groups.items()},
            # _bulk / _msearch lines may not name an index: the signed path is the only one.
            advanced_options={"rest.action.multi.allow_explicit_index": "false"},
        )
        self.domain.apply_removal_policy(removal)
        self.domain.add_resource_dependency(log_policy)
        self.endpoint = "https://" + self.domain.attr_domain_endpoint
        self.domain_name = self.name

        acknowledge(self.domain, "AwsSolutions-OS1",
                    "The functions run outside a VPC (no NAT gateway or interface endpoints to pay "
                    "for); every request is SigV4-signed and the domain access policy admits only "
                    "the API and ingest roles, on the index paths they use.")
        acknowledge(self.domain, "AwsSolutions-OS3",
                    "Access is limited by IAM principal (the two function roles) instead of source "
                    "IPs: Lambda egress IPs are not fixed, and unsigned requests are refused.")
        if not c.dedicated_master_type:
            acknowledge(self.domain, "AwsSolutions-OS4",
                        f"Stage {config.name} runs {c.instance_count} x {c.instance_type} without "
                        "dedicated masters to keep the idle cost low (cost/idle_cost.py); set "
                        "search.dedicated_master_type for a larger production domain.")
        if not c.zone_awareness:
            acknowledge(self.domain, "AwsSolutions-OS7",
                        f"Stage {config.name} is a single-AZ domain by config (search.zone_awareness "
                        "false): the index can be rebuilt from S3 uploads and notices, so an AZ "
                        "outage costs search availability, not data.")

    def _domain_index_resources(self) -> list[str]:
        base = self.domain_arn
        return [f"{base}/{self.index}*", f"{base}/{self.index}*/*",
                f"{base}/_index_template/{self.index}*", f"{base}/_search/pipeline/{self.index}*"]

    def _domain_search_resources(self) -> list[str]:
        return [f"{self.domain_arn}/{self.index}*/{api}" for api in SEARCH_APIS]

    def _domain_access_policy(self):
        if not self._principals:
            return None  # nothing granted: no resource policy, nobody gets in
        statements = [{
            "Sid": "FunctionRolesOnTheIndex", "Effect": "Allow",
            "Principal": {"AWS": [r.role_arn for r in self._principals]},
            "Action": ES_HTTP_ACTIONS,
            "Resource": self._domain_index_resources(),
        }]
        if self._searchers:
            statements.append({
                "Sid": "SearchOnlyRoles", "Effect": "Allow",
                "Principal": {"AWS": [r.role_arn for r in self._searchers]},
                "Action": ES_SEARCH_ACTIONS, "Resource": self._domain_search_resources()})
        return {"Version": "2012-10-17", "Statement": statements}

    # ---- OpenSearch Serverless collection -----------------------------------------------------
    def _collection(self, config: StageConfig, storage: Storage) -> None:
        stack = cdk.Stack.of(self)
        c = config.search
        encryption = aoss.CfnSecurityPolicy(
            self, "EncryptionPolicy", name=f"{self.name}-enc", type="encryption",
            description=f"{self.name}: encrypt with the stage's data key",
            policy=stack.to_json_string({
                "Rules": [{"ResourceType": "collection", "Resource": [f"collection/{self.name}"]}],
                "AWSOwnedKey": False, "KmsARN": storage.key.key_arn}))
        network = aoss.CfnSecurityPolicy(
            self, "NetworkPolicy", name=f"{self.name}-net", type="network",
            description=f"{self.name}: HTTPS endpoint (IAM + data access policy), no dashboards",
            policy=stack.to_json_string([{
                "Rules": [{"ResourceType": "collection", "Resource": [f"collection/{self.name}"]}],
                "AllowFromPublic": True}]))
        self.collection = aoss.CfnCollection(
            self, "Collection", name=self.name, type="VECTORSEARCH",
            description=f"{self.name}: notice and document chunks (BM25 + k-NN)",
            standby_replicas="ENABLED" if c.standby_replicas else "DISABLED")
        self.collection.add_resource_dependency(encryption)
        self.collection.add_resource_dependency(network)
        self.collection.apply_removal_policy(
            cdk.RemovalPolicy.RETAIN if config.retain_data else cdk.RemovalPolicy.DESTROY)
        self.data_access = aoss.CfnAccessPolicy(
            self, "DataAccessPolicy", name=f"{self.name}-data", type="data",
            description=f"{self.name}: the function roles on index {self.index}*",
            policy="[]")  # set by finalize_access(), once the grants are known
        self.endpoint = self.collection.attr_collection_endpoint
        self.collection_arn = self.collection.attr_arn

    def _aoss_data_policy(self):
        searchers = [{
            "Description": "Search-only functions: read documents of the chunk index",
            "Rules": [{"ResourceType": "index", "Resource": [f"index/{self.name}/{self.index}*"],
                       "Permission": ["aoss:ReadDocument"]}],
            "Principal": [r.role_arn for r in self._searchers],
        }] if self._searchers else []
        return [{
            "Description": "API and ingest functions: documents of the chunk index",
            "Rules": [
                {"ResourceType": "index", "Resource": [f"index/{self.name}/{self.index}*"],
                 "Permission": AOSS_INDEX_PERMISSIONS},
                {"ResourceType": "collection", "Resource": [f"collection/{self.name}"],
                 "Permission": ["aoss:DescribeCollectionItems"]},
            ],
            "Principal": [r.role_arn for r in self._principals],
        }] + searchers

    def finalize_access(self) -> None:
        """Writes the resource-side policy (domain access policy or serverless data access
        policy) naming every role granted so far. The stack calls it after all grants."""
        if not self._principals:
            raise ValueError("no role was granted the search index; nothing could use it")
        if self.mode == "domain":
            self.domain.access_policies = self._domain_access_policy()
        else:
            self.data_access.policy = cdk.Stack.of(self).to_json_string(self._aoss_data_policy())

    # ---- grants --------------------------------------------------------------------------------
    def grant_index_read_write(self, role: iam.IRole) -> None:
        """Read, write and (on first use) create the chunk index; nothing else in the cluster."""
        self._principals.append(role)
        if self.mode == "domain":
            role.add_to_principal_policy(iam.PolicyStatement(
                sid="SearchIndex", actions=ES_HTTP_ACTIONS,
                resources=self._domain_index_resources()))
            for resource in self._domain_index_resources():
                acknowledge_wildcard(role, resource,
                                     "Paths of the one chunk index: the trailing * covers "
                                     "versioned names/aliases (INDEX-v2), the index's own APIs "
                                     "(/INDEX/_search, /INDEX/_doc/ID, _delete_by_query) and its "
                                     "template and search pipelines; nothing else in the domain.")
        else:
            # Serverless authorizes data-plane calls with aoss:APIAccessAll on the collection
            # plus the data access policy above, which is where the index scoping lives.
            role.add_to_principal_policy(iam.PolicyStatement(
                sid="SearchCollection", actions=["aoss:APIAccessAll"],
                resources=[self.collection_arn]))

    def grant_index_search(self, role: iam.IRole) -> None:
        """Search the chunk index, nothing else: no writes, no index creation."""
        self._searchers.append(role)
        if self.mode == "domain":
            role.add_to_principal_policy(iam.PolicyStatement(
                sid="SearchIndexReadOnly", actions=ES_SEARCH_ACTIONS,
                resources=self._domain_search_resources()))
            for resource in self._domain_search_resources():
                acknowledge_wildcard(role, resource,
                                     "The search APIs of the one chunk index; the * covers "
                                     "versioned names and aliases (INDEX-v2).")
        else:
            role.add_to_principal_policy(iam.PolicyStatement(
                sid="SearchCollection", actions=["aoss:APIAccessAll"],
                resources=[self.collection_arn]))
