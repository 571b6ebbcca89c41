"""The DynamoDB MetadataStore's members and invitations, in the same single table and
workspace partition as everything else (``pk`` = ``WS#{workspace}``):

| item        | sk                         | notes                                            |
|-------------|----------------------------|--------------------------------------------------|
| member      | ``MEMBER#{user_id}``       | ``status`` active / removed (the tombstone)       |
| roster      | ``ROSTER``                 | ``editors``: how many active editors there are    |
| invitation  | ``INVITE#{invitation_id}`` | ``expires_at`` a ``sortable`` string; ``ttl``     |

No index is needed: the per-request membership check is one consistent GetItem on
``MEMBER#{sub}``, and listing a workspace's members or invitations is one Query on its
partition. Invitation codes never reach this table (Cognito e-mails its own temporary
password; local codes are hashed in the local accounts database).

Why the roster counter: "the last editor cannot be demoted or removed" must hold when two
editors demote each other at the same moment. Each role change or removal is one
TransactWriteItems that updates the member (conditional on the role it was read with) and
moves the counter (``editors > 1`` for a demotion), so one of the two is cancelled.
Mixed into ``DynamoDbMetadataStore`` (needs its ``client``, ``table``, ``_encode``,
``_values``, ``_get``, ``_prefix``, ``_is_condition_failure``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from noticebot.adapters.aws import dynamodb_items as items
from noticebot.adapters.aws.dynamodb_devices import DynamoDbInboxMixin
from noticebot.domain.members import (
    Invitation,
    InvitationStatus,
    JoinResult,
    Member,
    MemberChange,
    MemberStatus,
    Role,
)
from noticebot.domain.models import utcnow

ROSTER_SK = "ROSTER"
# An invitation is history once it has expired (accepted ones live on in the member record):
# DynamoDB's TTL deletes its item this long after its expiry, so the list editors see keeps a
# month of what became of their invitations and the partition does not grow for ever.
INVITATION_RETENTION = timedelta(days=30)
ATTEMPTS = 3  # a member changed between the read and the transaction: read again


def _drop_none(item: dict) -> dict:
    return {k: v for k, v in item.items() if v is not None}


def member_sk(user_id: str) -> str:
    return f"MEMBER#{user_id}"


def invitation_sk(invitation_id: str) -> str:
    return f"INVITE#{invitation_id}"


def member_item(m: Member) -> dict:
    return _drop_none({
        "pk": items.ws_key(m.workspace_id), "sk": member_sk(m.user_id), "type": "member",
        "workspace_id": m.workspace_id, "user_id": m.user_id, "role": m.role.value,
        "status": m.status.value, "email": m.email, "invited_by": m.invited_by,
        "invitation_id": m.invitation_id, "joined_at": items.ts(m.joined_at),
        "updated_at": items.ts(m.updated_at), "removed_by": m.removed_by,
        "removed_at": items.ts(m.removed_at), "sessions_not_before": m.sessions_not_before,
    })


def member_of(item: dict) -> Member:
    cutoff = item.get("sessions_not_before")
    return Member(
        workspace_id=item["workspace_id"], user_id=item["user_id"], role=Role(item["role"]),
        email=item.get("email", ""), status=MemberStatus(item["status"]),
        invited_by=item.get("invited_by"), invitation_id=item.get("invitation_id"),
        joined_at=items.dt(item["joined_at"]), updated_at=items.dt(item["updated_at"]),
        removed_by=item.get("removed_by"), removed_at=items.dt(item.get("removed_at")),
        sessions_not_before=None if cutoff is None else int(cutoff))


def invitation_item(i: Invitation) -> dict:
    return _drop_none({
        "pk": items.ws_key(i.workspace_id), "sk": invitation_sk(i.invitation_id),
        "type": "invitation", "workspace_id": i.workspace_id, "invitation_id": i.invitation_id,
        "email": i.email, "role": i.role.value, "status": i.status.value,
        "invited_by": i.invited_by, "user_id": i.user_id, "created_at": items.ts(i.created_at),
        "expires_at": items.sortable(i.expires_at), "accepted_at": items.ts(i.accepted_at),
        "revoked_by": i.revoked_by, "revoked_at": items.ts(i.revoked_at),
        items.TTL_ATTRIBUTE: int((i.expires_at + INVITATION_RETENTION).timestamp()),
    })


def invitation_of(item: dict) -> Invitation:
    return Invitation(
        workspace_id=item["workspace_id"], invitation_id=item["invitation_id"],
        email=item["email"], role=Role(item["role"]), status=InvitationStatus(item["status"]),
        invited_by=item["invited_by"], user_id=item.get("user_id", ""),
        created_at=items.dt(item["created_at"]),
        expires_at=items.sortable_dt(item["expires_at"]),
        accepted_at=items.dt(item.get("accepted_at")), revoked_by=item.get("revoked_by"),
        revoked_at=items.dt(item.get("revoked_at")))


class DynamoDbMembersMixin(DynamoDbInboxMixin):
    """Members and invitations here; members' reading state and devices come with it."""

    # ------------------------------------------------------------ plumbing
    def _roster_update(self, workspace_id: str, delta: int) -> dict:
        update = {"TableName": self.table,
                  "Key": self._encode({"pk": items.ws_key(workspace_id), "sk": ROSTER_SK}),
                  "UpdateExpression": "ADD editors :delta SET #type = :type",
                  "ExpressionAttributeNames": {"#type": "type"},
                  "ExpressionAttributeValues": self._values({":delta": delta,
                                                             ":type": "roster"})}
        if delta < 0:  # never the last one
            update["ConditionExpression"] = "editors > :one"
            update["ExpressionAttributeValues"].update(self._values({":one": 1}))
        return {"Update": update}

    def _transact(self, operations: list[dict]) -> list[str] | None:
        """None when written; else each operation's cancellation code ("None" = it was fine)."""
        try:
            self.client.transact_write_items(TransactItems=operations)
            return None
        except Exception as exc:
            error = getattr(exc, "response", {}) or {}
            if error.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = error.get("CancellationReasons") or []
            codes = [r.get("Code", "None") for r in reasons]
            if any(c not in ("None", "ConditionalCheckFailed") for c in codes) or not codes:
                raise  # a conflict with another transaction, throttling: not ours to read
            return codes

    def _member_update(self, m: Member, expression: str, values: dict) -> dict:
        """An update of member ``m``'s item, conditional on it still being what was read."""
        return {"Update": {
            "TableName": self.table,
            "Key": self._encode({"pk": items.ws_key(m.workspace_id), "sk": member_sk(m.user_id)}),
            "UpdateExpression": expression,
            "ConditionExpression": "#status = :active AND #role = :was",
            "ExpressionAttributeNames": {"#status": "status", "#role": "role"},
            "ExpressionAttributeValues": self._values(
                {":active": MemberStatus.ACTIVE.value, ":was": m.role.value, **values}),
        }}

    # ------------------------------------------------------------ members
    def get_member(self, workspace_id: str, user_id: str) -> Member | None:
        item = self._get(items.ws_key(workspace_id), member_sk(user_id))
        return member_of(item) if item else None

    def list_members(self, workspace_id: str) -> list[Member]:
        found = [member_of(i) for i in self._prefix(workspace_id, "MEMBER#")]
        found.sort(key=lambda m: (m.joined_at, m.user_id))
        return found

    def join_member(self, member: Member, *, accepting: Invitation | None = None,
                    now: datetime | None = None) -> JoinResult:
        now = now or utcnow()
        item = member_item(replace(member, status=MemberStatus.ACTIVE, removed_by=None,
                                   removed_at=None))
        operations = [{"Put": {
            "TableName": self.table, "Item": self._encode(item),
            "ConditionExpression": "attribute_not_exists(pk) OR #status = :removed",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": self._values({":removed": MemberStatus.REMOVED.value}),
        }}]
        if accepting is not None:
            operations.append({"Update": {
                "TableName": self.table,
                "Key": self._encode({"pk": items.ws_key(accepting.workspace_id),
                                     "sk": invitation_sk(accepting.invitation_id)}),
                "UpdateExpression": "SET #status = :accepted, accepted_at = :now",
                "ConditionExpression": "#status = :pending AND expires_at > :at",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": self._values({
                    ":accepted": InvitationStatus.ACCEPTED.value, ":now": items.ts(now),
                    ":pending": InvitationStatus.PENDING.value, ":at": items.sortable(now)}),
            }})
        if member.role == Role.EDITOR:
            operations.append(self._roster_update(member.workspace_id, +1))
        codes = self._transact(operations)
        if codes is None:
            return JoinResult.JOINED
        if codes[0] == "ConditionalCheckFailed":
            return JoinResult.ALREADY_MEMBER
        return JoinResult.INVITATION_GONE

    def change_member_role(self, workspace_id: str, user_id: str, role: Role, *,
                           now: datetime | None = None) -> MemberChange:
        for _ in range(ATTEMPTS):
            current = self.get_member(workspace_id, user_id)
            if current is None or not current.active:
                return MemberChange.NOT_FOUND
            if current.role == role:
                return MemberChange.UNCHANGED
            codes = self._transact([
                self._member_update(current, "SET #role = :role, updated_at = :now",
                                    {":role": role.value, ":now": items.ts(now or utcnow())}),
                self._roster_update(workspace_id, +1 if role == Role.EDITOR else -1)])
            if codes is None:
                return MemberChange.DONE
            if codes[1] == "ConditionalCheckFailed":
                return MemberChange.LAST_EDITOR
        return MemberChange.NOT_FOUND

    def remove_member(self, workspace_id: str, user_id: str, *, removed_by: str,
                      now: datetime | None = None) -> MemberChange:
        now = now or utcnow()
        for _ in range(ATTEMPTS):
            current = self.get_member(workspace_id, user_id)
            if current is None or not current.active:
                return MemberChange.NOT_FOUND
            operations = [self._member_update(
                current, "SET #status = :removed, removed_by = :by, removed_at = :now, "
                         "updated_at = :now",
                {":removed": MemberStatus.REMOVED.value, ":by": removed_by,
                 ":now": items.ts(now)})]
            if current.role == Role.EDITOR:
                operations.append(self._roster_update(workspace_id, -1))
            codes = self._transact(operations)
            if codes is None:
                return MemberChange.DONE
            if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
                return MemberChange.LAST_EDITOR
        return MemberChange.NOT_FOUND

    def end_member_sessions(self, workspace_id: str, user_id: str, not_before: int) -> bool:
        try:
            self.client.update_item(
                TableName=self.table,
                Key=self._encode({"pk": items.ws_key(workspace_id), "sk": member_sk(user_id)}),
                UpdateExpression="SET sessions_not_before = :t",
                ConditionExpression="#status = :active AND (attribute_not_exists("
                                    "sessions_not_before) OR sessions_not_before < :t)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=self._values(
                    {":t": int(not_before), ":active": MemberStatus.ACTIVE.value}))
            return True
        except Exception as exc:
            if not self._is_condition_failure(exc):
                raise
        current = self.get_member(workspace_id, user_id)  # a later cutoff already stands?
        return current is not None and current.active

    # -------------------------------------------------------- invitations
    def put_invitation(self, invitation: Invitation) -> None:
        self.client.put_item(TableName=self.table,
                             Item=self._encode(invitation_item(invitation)))

    def get_invitation(self, workspace_id: str, invitation_id: str) -> Invitation | None:
        item = self._get(items.ws_key(workspace_id), invitation_sk(invitation_id))
        return invitation_of(item) if item else None

    def list_invitations(self, workspace_id: str) -> list[Invitation]:
        found = [invitation_of(i) for i in self._prefix(workspace_id, "INVITE#")]
        found.sort(key=lambda i: i.invitation_id)
        found.sort(key=lambda i: i.created_at, reverse=True)
        return found

    def update_invitation(self, invitation: Invitation, *,
                          allowed_from: tuple[InvitationStatus, ...]) -> bool:
        if not allowed_from:
            return False
        names = {f":s{n}": InvitationStatus(s).value for n, s in enumerate(allowed_from)}
        try:
            self.client.put_item(
                TableName=self.table, Item=self._encode(invitation_item(invitation)),
                ConditionExpression=f"#status IN ({', '.join(names)})",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=self._values(names))
            return True
        except Exception as exc:
            if self._is_condition_failure(exc):
                return False
            raise
