"""MetadataStore on one DynamoDB table (layout and codecs: ``dynamodb_items``).

Why the low-level client rather than ``boto3.resource``: resources load a second
model file at cold start and hide the condition / return-value details this store
relies on; TypeSerializer gives the same convenience for plain values.

Why each method is shaped as it is:
- ``transition_document``, ``claim_document`` (the start of an ingest attempt, under a
  lease) and ``requeue_document`` are each one conditional UpdateItem
  (``dynamodb_document_updates``), so a stale or redelivered SQS message cannot drag an
  indexed document back to processing, and two invocations racing on one document cannot
  both take it, even when they run at the same moment.
- ``append_turns`` allocates sequence numbers with an atomic ``ADD turn_count`` on the
  conversation header, so two concurrent appends never write the same turn key.
- ``put_conversation`` updates the header's attributes instead of replacing the item,
  so re-saving a conversation keeps its turn counter.
- every read that decides something (get, conditional paths) is strongly consistent;
  ``find_document_by_sha256`` reads a GSI, which is eventually consistent: duplicate
  detection is best effort for two identical uploads within a second.

Fine-tune jobs, model versions and the active model: ``dynamodb_tuning``; members and
invitations: ``dynamodb_members`` (same table).
"""

from __future__ import annotations

import time
from datetime import timedelta

from noticebot.adapters.aws import dynamodb_document_updates as updates
from noticebot.adapters.aws import dynamodb_items as items
from noticebot.adapters.aws.clients import ClientSource, lazy
from noticebot.adapters.aws.dynamodb_members import DynamoDbMembersMixin
from noticebot.adapters.aws.dynamodb_tuning import DynamoDbTuningMixin
from noticebot.domain.errors import NotFound
from noticebot.domain.models import (
    Conversation,
    ConversationTurn,
    Document,
    Notice,
    utcnow,
)
from noticebot.ports.metadata_store import MetadataStore

BATCH_WRITE = 25  # BatchWriteItem's limit


class DynamoDbMetadataStore(DynamoDbMembersMixin, DynamoDbTuningMixin, MetadataStore):
    def __init__(self, table: str, client: ClientSource, *, conversation_ttl_days: int = 90,
                 clock=utcnow):
        if not table:
            raise ValueError("a DynamoDB table name is required (NOTICEBOT_TABLE)")
        self.table = table
        self.conversation_ttl = timedelta(days=conversation_ttl_days)
        self._clock = clock
        self._client = lazy(client)
        from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

        self._ser, self._de = TypeSerializer(), TypeDeserializer()

    @property
    def client(self):
        return self._client()

    # ------------------------------------------------------------ plumbing
    def _encode(self, item: dict) -> dict:
        return {k: self._ser.serialize(v) for k, v in item.items()}

    def _decode(self, raw: dict) -> dict:
        return {k: self._de.deserialize(v) for k, v in raw.items()}

    def _values(self, values: dict) -> dict:
        return {k: self._ser.serialize(v) for k, v in values.items()}

    def _get(self, pk: str, sk: str) -> dict | None:
        raw = self.client.get_item(TableName=self.table, ConsistentRead=True,
                                   Key=self._encode({"pk": pk, "sk": sk})).get("Item")
        return self._decode(raw) if raw else None

    def _query(self, **kwargs) -> list[dict]:
        out, start = [], None
        while True:
            page = self.client.query(TableName=self.table, **kwargs,
                                     **({"ExclusiveStartKey": start} if start else {}))
            out.extend(self._decode(i) for i in page.get("Items", []))
            start = page.get("LastEvaluatedKey")
            if not start:
                return out

    def _prefix(self, workspace_id: str, prefix: str, **query) -> list[dict]:
        """``query``: more of Query's parameters (a projection)."""
        return self._query(
            ConsistentRead=True,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues=self._values({":pk": items.ws_key(workspace_id),
                                                    ":prefix": prefix}),
            **query,
        )

    def _delete(self, pk: str, sk: str) -> bool:
        old = self.client.delete_item(TableName=self.table, ReturnValues="ALL_OLD",
                                      Key=self._encode({"pk": pk, "sk": sk}))
        return bool(old.get("Attributes"))

    def _is_condition_failure(self, exc: Exception) -> bool:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code")
        return code == "ConditionalCheckFailedException"

    def _ttl(self) -> int:
        return int((self._clock() + self.conversation_ttl).timestamp())

    # ----------------------------------------------------------- documents
    def put_document(self, doc: Document) -> None:
        self.client.put_item(TableName=self.table, Item=self._encode(items.document_item(doc)))

    def get_document(self, workspace_id: str, document_id: str) -> Document | None:
        item = self._get(items.ws_key(workspace_id), items.doc_sk(document_id))
        return items.document_of(item) if item else None

    def list_documents(self, workspace_id: str, source: str | None = None) -> list[Document]:
        docs = [items.document_of(i) for i in self._prefix(workspace_id, "DOC#")]
        if source:
            docs = [d for d in docs if d.source == source]
        # Newest first, ties by id: the order the SQLite store returns.
        docs.sort(key=lambda d: d.document_id)
        docs.sort(key=lambda d: d.created_at, reverse=True)
        return docs

    def find_document_by_sha256(self, workspace_id: str, sha256: str) -> Document | None:
        if not sha256:
            return None
        found = self.client.query(
            TableName=self.table, IndexName=items.GSI1, Limit=1, ScanIndexForward=True,
            KeyConditionExpression="gsi1pk = :k",
            ExpressionAttributeValues=self._values(
                {":k": f"{items.ws_key(workspace_id)}#SHA#{sha256}"}),
        ).get("Items", [])
        return items.document_of(self._decode(found[0])) if found else None

    def transition_document(self, workspace_id, document_id, to, *, allowed_from, error=None,
                            chunk_count=None, page_count=None, title=None,
                            unchanged_since=None) -> bool:
        if not allowed_from:
            return False
        return self._update_document(workspace_id, document_id, updates.transition(
            to, tuple(allowed_from), error=error, chunk_count=chunk_count, page_count=page_count,
            title=title, unchanged_since=unchanged_since))

    def claim_document(self, workspace_id, document_id, *, holder, lease_until, now) -> bool:
        return self._update_document(workspace_id, document_id,
                                     updates.claim(holder, lease_until, now))

    def requeue_document(self, workspace_id, document_id, *, seen, reset_attempts) -> bool:
        return self._update_document(workspace_id, document_id,
                                     updates.requeue(seen, reset_attempts))

    def _update_document(self, workspace_id: str, document_id: str,
                         change: updates.ConditionalUpdate) -> bool:
        """One conditional UpdateItem on a document; False when the condition did not hold."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key=self._encode({"pk": items.ws_key(workspace_id),
                                  "sk": items.doc_sk(document_id)}),
                UpdateExpression=change.update, ConditionExpression=change.condition,
                ExpressionAttributeNames=change.names,
                ExpressionAttributeValues=self._values(change.values),
            )
        except Exception as exc:
            if self._is_condition_failure(exc):
                return False
            raise
        return True

    def delete_document(self, workspace_id: str, document_id: str) -> bool:
        return self._delete(items.ws_key(workspace_id), items.doc_sk(document_id))

    # ------------------------------------------------------------- notices
    def put_notice(self, notice: Notice) -> None:
        self.client.put_item(TableName=self.table, Item=self._encode(items.notice_item(notice)))

    def get_notice(self, workspace_id: str, notice_id: str) -> Notice | None:
        item = self._get(items.ws_key(workspace_id), items.notice_sk(notice_id))
        return items.notice_of(item) if item else None

    def list_notices(self, workspace_id: str, *, bodies: bool = True) -> list[Notice]:
        projection = {} if bodies else items.NOTICE_HEAD_PROJECTION
        notices = [items.notice_of(i) for i in self._prefix(workspace_id, "NOTICE#",
                                                            **projection)]
        notices.sort(key=lambda n: (not n.pinned, -n.created_at.timestamp(), n.notice_id))
        return notices

    def delete_notice(self, workspace_id: str, notice_id: str) -> bool:
        return self._delete(items.ws_key(workspace_id), items.notice_sk(notice_id))

    # ------------------------------------------------------- conversations
    def put_conversation(self, conversation: Conversation) -> None:
        c = conversation
        self.client.update_item(
            TableName=self.table,
            Key=self._encode({"pk": items.ws_key(c.workspace_id),
                              "sk": items.conv_sk(c.conversation_id)}),
            UpdateExpression=("SET #type = :type, workspace_id = :ws, conversation_id = :id, "
                              "user_id = :user, title = :title, created_at = :created, "
                              "updated_at = :updated, #ttl = :ttl, "
                              "turn_count = if_not_exists(turn_count, :zero)"),
            ExpressionAttributeNames={"#type": "type", "#ttl": items.TTL_ATTRIBUTE},
            ExpressionAttributeValues=self._values({
                ":type": "conversation", ":ws": c.workspace_id, ":id": c.conversation_id,
                ":user": c.user_id, ":title": c.title, ":created": items.ts(c.created_at),
                ":updated": items.ts(c.updated_at), ":ttl": self._ttl(), ":zero": 0,
            }),
        )

    def get_conversation(self, workspace_id: str, conversation_id: str) -> Conversation | None:
        head = self._get(items.ws_key(workspace_id), items.conv_sk(conversation_id))
        now = int(self._clock().timestamp())
        if not head or int(head.get(items.TTL_ATTRIBUTE, now + 1)) <= now:
            return None  # TTL deletes late: an expired conversation is already gone
        turns = self._prefix(workspace_id, items.turn_sk(conversation_id, 0)[:-6])
        return Conversation(
            workspace_id=head["workspace_id"], conversation_id=head["conversation_id"],
            user_id=head["user_id"], title=head.get("title", ""),
            turns=[items.turn_of(t) for t in turns
                   if int(t.get(items.TTL_ATTRIBUTE, now + 1)) > now],
            created_at=items.dt(head["created_at"]), updated_at=items.dt(head["updated_at"]),
        )

    def append_turns(self, workspace_id: str, conversation_id: str,
                     turns: list[ConversationTurn]) -> None:
        if not turns:
            return
        ttl = self._ttl()
        try:
            counted = self.client.update_item(
                TableName=self.table,
                Key=self._encode({"pk": items.ws_key(workspace_id),
                                  "sk": items.conv_sk(conversation_id)}),
                UpdateExpression="ADD turn_count :n SET updated_at = :now, #ttl = :ttl",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#ttl": items.TTL_ATTRIBUTE},
                ExpressionAttributeValues=self._values(
                    {":n": len(turns), ":now": items.ts(utcnow()), ":ttl": ttl}),
                ReturnValues="UPDATED_NEW",
            )
        except Exception as exc:
            if self._is_condition_failure(exc):
                raise NotFound(f"conversation {conversation_id} not found") from None
            raise
        end = int(self._de.deserialize(counted["Attributes"]["turn_count"]))
        requests = [
            {"PutRequest": {"Item": self._encode(items.turn_item(
                workspace_id, conversation_id, seq, turn, ttl))}}
            for seq, turn in zip(range(end - len(turns), end), turns)
        ]
        for start in range(0, len(requests), BATCH_WRITE):
            self._batch_write(requests[start:start + BATCH_WRITE])

    def _batch_write(self, requests: list[dict], attempts: int = 5) -> None:
        pending = {self.table: requests}
        for attempt in range(attempts):
            left = self.client.batch_write_item(RequestItems=pending).get("UnprocessedItems")
            if not left:
                return
            pending = left
            time.sleep(0.05 * 2 ** attempt)  # throttled: back off before the leftovers
        raise RuntimeError("DynamoDB kept throttling the conversation turn writes")
