"""The DynamoDB MetadataStore's reading state and push devices, in the workspace's partition
(``INBOX#{user}`` and ``DEVICE#{device_id}``; layout in ``dynamodb_items``).

Each write is one UpdateItem or conditional PutItem: a seen instant only moves forward (two
devices of one member marking seen at once keep the later), and registering a token either
creates its device, hands another user's over to the caller, or leaves the caller's own as it
was (its ``created_at`` kept). Mixed into ``DynamoDbMembersMixin``; needs the store's
``client``, ``table``, ``_encode``, ``_values``, ``_get``, ``_prefix``,
``_is_condition_failure``.
"""

from __future__ import annotations

from datetime import datetime

from noticebot.adapters.aws import dynamodb_items as items
from noticebot.domain.notifications import Device, MemberInbox


class DynamoDbInboxMixin:
    def get_inbox(self, workspace_id: str, user_id: str) -> MemberInbox | None:
        item = self._get(items.ws_key(workspace_id), items.inbox_sk(user_id))
        return items.inbox_of(item) if item else None

    def list_inboxes(self, workspace_id: str) -> list[MemberInbox]:
        found = [items.inbox_of(i) for i in self._prefix(workspace_id, "INBOX#")]
        return sorted(found, key=lambda i: i.user_id)

    def _update_inbox(self, workspace_id: str, user_id: str, expression: str, values: dict,
                      condition: str | None = None) -> None:
        try:
            self.client.update_item(
                TableName=self.table,
                Key=self._encode({"pk": items.ws_key(workspace_id),
                                  "sk": items.inbox_sk(user_id)}),
                UpdateExpression=f"SET #type = :type, workspace_id = :ws, user_id = :user, "
                                 f"{expression}",
                **({"ConditionExpression": condition} if condition else {}),
                ExpressionAttributeNames={"#type": "type"},
                ExpressionAttributeValues=self._values(
                    {":type": "inbox", ":ws": workspace_id, ":user": user_id, **values}))
        except Exception as exc:
            if not (condition and self._is_condition_failure(exc)):
                raise  # a condition that failed: a later instant already stands

    def mark_seen(self, workspace_id: str, user_id: str, at: datetime) -> None:
        self._update_inbox(workspace_id, user_id, "seen_at = :at", {":at": items.sortable(at)},
                           "attribute_not_exists(seen_at) OR seen_at < :at")

    def set_push_muted(self, workspace_id: str, user_id: str, muted: bool) -> None:
        self._update_inbox(workspace_id, user_id, "push_muted = :muted",
                           {":muted": bool(muted)})

    def register_device(self, device: Device) -> Device:
        try:  # new, or another user's: the caller's from now on
            self.client.put_item(
                TableName=self.table, Item=self._encode(items.device_item(device)),
                ConditionExpression="attribute_not_exists(pk) OR user_id <> :user",
                ExpressionAttributeValues=self._values({":user": device.user_id}))
            return device
        except Exception as exc:
            if not self._is_condition_failure(exc):
                raise
        stored = self.client.update_item(  # already the caller's: only the platform may change
            TableName=self.table,
            Key=self._encode({"pk": items.ws_key(device.workspace_id),
                              "sk": items.device_sk(device.device_id)}),
            UpdateExpression="SET platform = :platform",
            ExpressionAttributeValues=self._values({":platform": device.platform.value}),
            ReturnValues="ALL_NEW")
        return items.device_of(self._decode(stored["Attributes"]))

    def list_devices(self, workspace_id: str, user_id: str | None = None) -> list[Device]:
        found = [items.device_of(i) for i in self._prefix(workspace_id, "DEVICE#")]
        found = [d for d in found if user_id is None or d.user_id == user_id]
        return sorted(found, key=lambda d: (d.created_at, d.device_id))

    def delete_device(self, workspace_id: str, device_id: str,
                      user_id: str | None = None) -> bool:
        owner = {} if user_id is None else {
            "ConditionExpression": "user_id = :user",
            "ExpressionAttributeValues": self._values({":user": user_id})}
        try:
            old = self.client.delete_item(
                TableName=self.table, ReturnValues="ALL_OLD", **owner,
                Key=self._encode({"pk": items.ws_key(workspace_id),
                                  "sk": items.device_sk(device_id)}))
        except Exception as exc:
            if self._is_condition_failure(exc):
                return False  # another user's (or none: a condition on no item fails too)
            raise
        return bool(old.get("Attributes"))
