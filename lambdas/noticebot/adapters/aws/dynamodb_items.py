"""The single-table item layout of the DynamoDB MetadataStore, and domain <-> item codecs.

One table, partition key ``pk`` = ``WS#{workspace}`` for every item, so a workspace's
rows live in one partition and no key of another workspace can be reached by a query
that names this one:

| item          | sk                                   | notes                                   |
|---------------|--------------------------------------|-----------------------------------------|
| document      | ``DOC#{document_id}``                | ``gsi1pk`` = ``WS#{ws}#SHA#{sha256}``    |
|               |                                      | (uploads only: duplicate detection);    |
|               |                                      | ``lease_until`` a ``sortable`` string   |
| notice        | ``NOTICE#{notice_id}``               |                                         |
| conversation  | ``CONV#{conversation_id}``           | ``turn_count`` allocates turn numbers   |
| turn          | ``CONV#{conversation_id}#TURN#{seq:06d}`` | sorted by sk = conversation order  |
| fine-tune job, training slot, model version, active model: see ``dynamodb_tuning``         |
| member, the editors' roster, invitation: see ``dynamodb_members``                         |
| inbox         | ``INBOX#{user_id}``                  | ``seen_at`` (sortable), ``push_muted`` |
| device        | ``DEVICE#{device_id}``               | id derived from (workspace, token)      |

``ttl`` (epoch seconds) on conversations and turns: DynamoDB's TTL deletes inactive
conversations (each append pushes the header's ttl forward; every turn keeps the ttl
of the moment it was written, so very old turns of a long-lived conversation expire
first, and history is only ever read from the newest turns anyway). TTL deletion
runs up to days late, so reads also treat an item past its ttl as gone.

Why JSON strings for ``metadata`` and ``citations``: DynamoDB maps numbers to
Decimal and rejects floats; a JSON string round-trips any document metadata exactly.
Datetimes are ISO 8601 strings with their offset, so they round-trip unchanged.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from noticebot.domain.models import Citation, ConversationTurn, Document, DocumentStatus, Notice
from noticebot.domain.notifications import Device, MemberInbox, Platform

GSI1 = "gsi1"

# What the CDK table must declare (the tests create the moto table from this too).
TABLE_SCHEMA: dict[str, Any] = {
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                  {"AttributeName": "sk", "KeyType": "RANGE"}],
    "AttributeDefinitions": [{"AttributeName": n, "AttributeType": "S"}
                             for n in ("pk", "sk", "gsi1pk", "gsi1sk")],
    "GlobalSecondaryIndexes": [{
        "IndexName": GSI1,
        "KeySchema": [{"AttributeName": "gsi1pk", "KeyType": "HASH"},
                      {"AttributeName": "gsi1sk", "KeyType": "RANGE"}],
        "Projection": {"ProjectionType": "ALL"},
    }],
    "BillingMode": "PAY_PER_REQUEST",
}
TTL_ATTRIBUTE = "ttl"


def ws_key(workspace_id: str) -> str:
    if not workspace_id:
        raise ValueError("workspace_id is required")
    return f"WS#{workspace_id}"


def doc_sk(document_id: str) -> str:
    return f"DOC#{document_id}"


def notice_sk(notice_id: str) -> str:
    return f"NOTICE#{notice_id}"


def conv_sk(conversation_id: str) -> str:
    return f"CONV#{conversation_id}"


def turn_sk(conversation_id: str, seq: int) -> str:
    return f"CONV#{conversation_id}#TURN#{seq:06d}"


def ts(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


SORTABLE_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def sortable(value: datetime) -> str:
    """UTC, fixed width: sorts as a string in time order whatever offset it came with."""
    return value.astimezone(timezone.utc).strftime(SORTABLE_FORMAT)


def sortable_dt(value: str | None) -> datetime | None:
    return (datetime.strptime(value, SORTABLE_FORMAT).replace(tzinfo=timezone.utc)
            if value else None)


def _drop_none(item: dict) -> dict:
    return {k: v for k, v in item.items() if v is not None}


# ---------------------------------------------------------------- documents
def document_item(doc: Document) -> dict:
    item = {
        "pk": ws_key(doc.workspace_id), "sk": doc_sk(doc.document_id), "type": "document",
        "workspace_id": doc.workspace_id, "document_id": doc.document_id,
        "filename": doc.filename, "title": doc.title, "content_type": doc.content_type,
        "size_bytes": int(doc.size_bytes), "sha256": doc.sha256, "blob_key": doc.blob_key,
        "status": doc.status.value, "error": doc.error, "chunk_count": int(doc.chunk_count),
        "page_count": doc.page_count, "source": doc.source,
        "metadata": json.dumps(doc.metadata or {}, ensure_ascii=False),
        "uploaded_by": doc.uploaded_by, "created_at": ts(doc.created_at),
        "updated_at": ts(doc.updated_at), "attempts": int(doc.attempts),
        "lease_until": sortable(doc.lease_until) if doc.lease_until else None,
        "lease_holder": doc.lease_holder or None,
    }
    if doc.source == "upload" and doc.sha256:
        # Sparse index: only uploads with known content take part in duplicate detection.
        item["gsi1pk"] = f"{ws_key(doc.workspace_id)}#SHA#{doc.sha256}"
        item["gsi1sk"] = f"{sortable(doc.created_at)}#{doc.document_id}"
    return _drop_none(item)


def document_of(item: dict) -> Document:
    page = item.get("page_count")
    return Document(
        workspace_id=item["workspace_id"], document_id=item["document_id"],
        filename=item["filename"], title=item["title"], content_type=item["content_type"],
        size_bytes=int(item["size_bytes"]), sha256=item.get("sha256", ""),
        blob_key=item.get("blob_key", ""), status=DocumentStatus(item["status"]),
        error=item.get("error"), chunk_count=int(item.get("chunk_count", 0)),
        page_count=None if page is None else int(page), source=item.get("source", "upload"),
        metadata=json.loads(item.get("metadata") or "{}"),
        uploaded_by=item.get("uploaded_by", ""), created_at=dt(item["created_at"]),
        updated_at=dt(item["updated_at"]), attempts=int(item.get("attempts", 0)),
        lease_until=sortable_dt(item.get("lease_until")),
        lease_holder=item.get("lease_holder", ""),
    )


# ------------------------------------------------------------------ notices
def notice_item(notice: Notice) -> dict:
    return _drop_none({
        "pk": ws_key(notice.workspace_id), "sk": notice_sk(notice.notice_id), "type": "notice",
        "workspace_id": notice.workspace_id, "notice_id": notice.notice_id,
        "title": notice.title, "body": notice.body, "author": notice.author,
        "pinned": bool(notice.pinned), "expires_at": ts(notice.expires_at),
        "created_at": ts(notice.created_at), "updated_at": ts(notice.updated_at),
        "pinned_at": ts(notice.pinned_at),
    })


# A notice without its title and body: who wrote it and when it surfaced, for the unread
# count. Names through placeholders, as a projection must for reserved words.
_NOTICE_HEAD = ("workspace_id", "notice_id", "author", "pinned", "expires_at", "created_at",
                "updated_at", "pinned_at")
NOTICE_HEAD_PROJECTION = {
    "ProjectionExpression": ", ".join(f"#h{n}" for n in range(len(_NOTICE_HEAD))),
    "ExpressionAttributeNames": {f"#h{n}": name for n, name in enumerate(_NOTICE_HEAD)},
}


def notice_of(item: dict) -> Notice:
    """A projection without title and body (``NOTICE_HEAD_PROJECTION``) leaves them empty."""
    return Notice(
        workspace_id=item["workspace_id"], notice_id=item["notice_id"],
        title=item.get("title", ""), body=item.get("body", ""), author=item.get("author", ""), pinned=bool(item.get("pinned")),
        expires_at=dt(item.get("expires_at")), created_at=dt(item["created_at"]),
        updated_at=dt(item["updated_at"]), pinned_at=dt(item.get("pinned_at")),
    )


# ------------------------------------------------------- inboxes and devices
def inbox_sk(user_id: str) -> str:
    return f"INBOX#{user_id}"


def device_sk(device_id: str) -> str:
    return f"DEVICE#{device_id}"


def inbox_of(item: dict) -> MemberInbox:
    return MemberInbox(workspace_id=item["workspace_id"], user_id=item["user_id"],
                       seen_at=sortable_dt(item.get("seen_at")),
                       push_muted=bool(item.get("push_muted", False)))


def device_item(d: Device) -> dict:
    return {"pk": ws_key(d.workspace_id), "sk": device_sk(d.device_id), "type": "device",
            "workspace_id": d.workspace_id, "device_id": d.device_id, "user_id": d.user_id,
            "token": d.token, "platform": d.platform.value, "created_at": ts(d.created_at)}


def device_of(item: dict) -> Device:
    return Device(workspace_id=item["workspace_id"], device_id=item["device_id"],
                  user_id=item["user_id"], token=item["token"],
                  platform=Platform(item["platform"]), created_at=dt(item["created_at"]))


# -------------------------------------------------------------------- turns
def turn_item(workspace_id: str, conversation_id: str, seq: int, turn: ConversationTurn,
              ttl: int) -> dict:
    return {
        "pk": ws_key(workspace_id), "sk": turn_sk(conversation_id, seq), "type": "turn",
        "seq": seq, "role": turn.role, "content": turn.content,
        "citations": json.dumps([c.__dict__ for c in turn.citations], ensure_ascii=False),
        "created_at": ts(turn.created_at), TTL_ATTRIBUTE: ttl,
    }


def turn_of(item: dict) -> ConversationTurn:
    return ConversationTurn(
        role=item["role"], content=item["content"],
        citations=[Citation(**c) for c in json.loads(item.get("citations") or "[]")],
        created_at=dt(item["created_at"]),
    )
