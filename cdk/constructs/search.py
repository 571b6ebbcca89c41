"""Search: an OpenSearch Service domain or an OpenSearch Serverless vector collection (config).

Both modes: encrypted with the stage's KMS key, HTTPS only, reachable only with SigV4-signed
requests from the roles granted here, and scoped to the configured index (name prefix, so
versioned indices such as noticebot-chunks-v2 and aliases work).

What each role may do is derived from one table, ``INDEX_REQUESTS``: every request the
OpenSearch adapter (noticebot.adapters.aws.opensearch_index) sends, with what authorizes it on
a domain (an IAM action on the request's path) and on a Serverless collection (a data access
policy permission on the index or the collection). tests/cdk/test_cdk_opensearch_permissions.py
records the adapter's requests in both modes and checks each one against the table, and the
table against the synthesized policies; a new kind of request without a row fails there.

    domain     domain access policy + identity policies: the verbs of the table on the paths
               of the table (INDEX*, INDEX*/_bulk, ..., _index_template/INDEX*), nothing at
               the root and no DELETE at all: the adapter deletes documents with
               POST INDEX/_delete_by_query (domain) or delete lines in POST INDEX/_bulk, so
               no role can send DELETE /INDEX (drop the index) or DELETE INDEX/_doc/ID.
               What IAM cannot scope: it sees the path, not the body, so a role that may
               POST INDEX/_bulk or INDEX/_delete_by_query may delete any document of the
               index; that every query and write names the caller's workspace is the
               adapter's guarantee (its port cannot express a request without one). The
               domain sets rest.action.multi.allow_explicit_index=false, so a _bulk or
               _msearch body cannot name another index than the signed path.
    serverless data access policy: the table's index permissions on index/COLLECTION/INDEX*
               and its collection permissions (the index template: aoss:CreateCollectionItems
               to create it, aoss:UpdateCollectionItems to replace it) on the collection,
               which Serverless does not scope below the collection; aoss:APIAccessAll on the
               collection in the identity policy (how Serverless admits data-plane calls).

A role that only searches (the chat function: its searches are `POST /INDEX/_msearch`, and a
missing index reads as empty, so it never creates one) gets `grant_index_search`: the rows
marked for searchers only.
"""

from __future__ import annotations

from dataclasses import dataclass

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

TLS_POLICY = "Policy-Min-TLS-1-2-PFS-2023-10"


@dataclass(frozen=True)
class IndexRequest:
    """One kind of request the adapter sends. ``path`` is relative to the domain, with
    ``{index}`` for the index name; ``aoss_on`` says whether Serverless checks the permission
    on the index or on the collection; ``search`` marks what a search-only role may send;
    ``modes`` where the adapter sends it ("es": a domain, "aoss": a collection)."""

    method: str
    path: str
    aoss_permission: str
    aoss_on: str = "index"
    search: bool = False
    modes: tuple[str, ...] = ("es", "aoss")  # where the adapter sends it (domain, Serverless)

    @property
    def es_action(self) -> str:
        return "es:ESHttp" + self.method.title()

    def matches(self, method: str, path: str, index: str) -> bool:
        return method == self.method and path == self.path.format(index=index)


# The adapter's requests (see the module docstring). Serverless rows follow its
# supported-operations table.
INDEX_REQUESTS = (
    IndexRequest("HEAD", "/{index}", "aoss:DescribeIndex"),  # does the index exist?
    IndexRequest("PUT", "/_index_template/{index}", "aoss:CreateCollectionItems",
                 aoss_on="collection"),
    IndexRequest("PUT", "/_index_template/{index}", "aoss:UpdateCollectionItems",
                 aoss_on="collection"),  # a template left by an earlier index is replaced
    IndexRequest("PUT", "/{index}", "aoss:CreateIndex"),
    IndexRequest("POST", "/{index}/_bulk", "aoss:WriteDocument"),  # index and delete chunks
    # A document's chunks: by query on a domain; on a collection, found with _search and
    # deleted by id in a _bulk (Serverless has no _delete_by_query).
    IndexRequest("POST", "/{index}/_delete_by_query", "aoss:WriteDocument", modes=("es",)),
    IndexRequest("POST", "/{index}/_search", "aoss:ReadDocument", modes=("aoss",)),
    IndexRequest("POST", "/{index}/_msearch", "aoss:ReadDocument", search=True),
    IndexRequest("POST", "/{index}/_count", "aoss:ReadDocument"),
)


def es_statements(domain_arn: str, index: str, *, search_only: bool) -> list[dict]:
    """(actions, resources) per HTTP verb for a role: each verb only on the paths the table
    sends it to. The index name ends in * (versioned indices and aliases)."""
    by_verb: dict[str, list[str]] = {}
    for r in INDEX_REQUESTS:
        if "es" not in r.modes or (search_only and not r.search):
            continue
        resource = domain_arn + r.path.format(index=f"{index}*")
        if resource not in by_verb.setdefault(r.es_action, []):
            by_verb[r.es_action].append(resource)
    return [{"actions": [action], "resources": resources}
            for action, resources in sorted(by_verb.items())]


def aoss_permissions(*, search_only: bool) -> dict[str, list[str]]:
    """Data access policy permissions by resource kind ("index", "collection")."""
    out: dict[str, list[str]] = {}
    for r in INDEX_REQUESTS:
        if "aoss" not in r.modes or (search_only and not r.search):
            continue
        if r.aoss_permission not in out.setdefault(r.aoss_on, []):
            out[r.aoss_on].append(r.aoss_permission)
    return out


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

    def _es_statements(self, search_only: bool) -> list[dict]:
        return es_statements(self.domain_arn, self.index, search_only=search_only)

    def _domain_access_policy(self):
        if not self._principals:
            return None  # nothing granted: no resource policy, nobody gets in
        statements = [{
            "Sid": f"FunctionRolesOnTheIndex{n}", "Effect": "Allow",
            "Principal": {"AWS": [r.role_arn for r in self._principals]},
            "Action": st["actions"], "Resource": st["resources"],
        } for n, st in enumerate(self._es_statements(False))]
        if self._searchers:
            statements += [{
                "Sid": f"SearchOnlyRoles{n}", "Effect": "Allow",
                "Principal": {"AWS": [r.role_arn for r in self._searchers]},
                "Action": st["actions"], "Resource": st["resources"],
            } for n, st in enumerate(self._es_statements(True))]
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

    def _aoss_rules(self, search_only: bool) -> list[dict]:
        resources = {"index": [f"index/{self.name}/{self.index}*"],
                     "collection": [f"collection/{self.name}"]}
        return [{"ResourceType": kind, "Resource": resources[kind], "Permission": permissions}
                for kind, permissions in sorted(aoss_permissions(search_only=search_only).items(),
                                                reverse=True)]

    def _aoss_data_policy(self):
        searchers = [{
            "Description": "Search-only functions: read documents of the chunk index",
            "Rules": self._aoss_rules(True),
            "Principal": [r.role_arn for r in self._searchers],
        }] if self._searchers else []
        return [{
            "Description": "API and ingest functions: the chunk index and its template",
            "Rules": self._aoss_rules(False),
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
        """Read, write and (on first use) create the chunk index and its template; delete
        documents, never the index; nothing else in the cluster."""
        self._principals.append(role)
        self._grant(role, search_only=False)

    def grant_index_search(self, role: iam.IRole) -> None:
        """Search the chunk index, nothing else: no writes, no index creation."""
        self._searchers.append(role)
        self._grant(role, search_only=True)

    def _grant(self, role: iam.IRole, *, search_only: bool) -> None:
        if self.mode != "domain":
            # Serverless authorizes data-plane calls with aoss:APIAccessAll on the collection
            # plus the data access policy, which is where the index scoping lives.
            role.add_to_principal_policy(iam.PolicyStatement(
                sid="SearchCollection", actions=["aoss:APIAccessAll"],
                resources=[self.collection_arn]))
            return
        statements = self._es_statements(search_only)
        for st in statements:
            sid = "SearchIndexReadOnly" if search_only else "SearchIndex"
            if len(statements) > 1:  # one statement per verb: SearchIndexHead, ...Post, ...Put
                sid += st["actions"][0].split(":ESHttp")[1]
            role.add_to_principal_policy(iam.PolicyStatement(
                sid=sid, actions=st["actions"], resources=st["resources"]))
            for resource in st["resources"]:
                acknowledge_wildcard(role, resource,
                                     "The one chunk index's own paths, each verb only where the "
                                     "adapter sends it (cdk/constructs/search.py INDEX_REQUESTS); "
                                     "the * after the index name covers versioned names and "
                                     "aliases (INDEX-v2). Nothing else in the domain.")
