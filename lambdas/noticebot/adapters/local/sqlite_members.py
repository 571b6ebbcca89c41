"""The SQLite MetadataStore's members and invitations (migration 4), and their reading state
and push devices (migration 5). Mixed into ``SqliteMetadataStore``.

Each write that must hold an invariant (the last editor stays, an invitation is accepted once)
runs inside one ``BEGIN IMMEDIATE`` transaction under the store's lock, so the check and the
write see the same rows even with another process on the same file.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

from noticebot.adapters.local.sqlite_transaction import immediate_transaction
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
from noticebot.domain.notifications import Device, MemberInbox, Platform

MEMBERS_MIGRATION = """
CREATE TABLE members (
    workspace_id TEXT NOT NULL, user_id TEXT NOT NULL, role TEXT NOT NULL,
    status TEXT NOT NULL, email TEXT NOT NULL, invited_by TEXT, invitation_id TEXT,
    joined_at TEXT NOT NULL, updated_at TEXT NOT NULL, removed_by TEXT, removed_at TEXT,
    sessions_not_before INTEGER,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE TABLE invitations (
    workspace_id TEXT NOT NULL, invitation_id TEXT NOT NULL, email TEXT NOT NULL,
    role TEXT NOT NULL, status TEXT NOT NULL, invited_by TEXT NOT NULL, user_id TEXT NOT NULL,
    created_at TEXT NOT NULL, expires_at TEXT NOT NULL, accepted_at TEXT,
    revoked_by TEXT, revoked_at TEXT,
    PRIMARY KEY (workspace_id, invitation_id)
);
"""

# Inbox rows also serve personal workspaces, which keep no member rows. A device's id is
# derived from (workspace, token), so the primary key makes a token unique per workspace.
NOTIFY_MIGRATION = """
ALTER TABLE notices ADD COLUMN pinned_at TEXT;
CREATE TABLE member_inbox (
    workspace_id TEXT NOT NULL, user_id TEXT NOT NULL, seen_at TEXT,
    push_muted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE TABLE devices (
    workspace_id TEXT NOT NULL, device_id TEXT NOT NULL, user_id TEXT NOT NULL,
    token TEXT NOT NULL, platform TEXT NOT NULL, created_at TEXT NOT NULL,
    PRIMARY KEY (workspace_id, device_id)
);
"""

_INSTANT = "%Y-%m-%dT%H:%M:%S.%fZ"


def _ts(value: datetime | None) -> str | None:
    """UTC, fixed width: expiries compare as strings in SQL."""
    return value.astimezone(timezone.utc).strftime(_INSTANT) if value else None


def _dt(value: str | None) -> datetime | None:
    return datetime.strptime(value, _INSTANT).replace(tzinfo=timezone.utc) if value else None


def _member(row: sqlite3.Row) -> Member:
    return Member(
        workspace_id=row["workspace_id"], user_id=row["user_id"], role=Role(row["role"]),
        email=row["email"], status=MemberStatus(row["status"]), invited_by=row["invited_by"],
        invitation_id=row["invitation_id"], joined_at=_dt(row["joined_at"]),
        updated_at=_dt(row["updated_at"]), removed_by=row["removed_by"],
        removed_at=_dt(row["removed_at"]), sessions_not_before=row["sessions_not_before"])


def _invitation(row: sqlite3.Row) -> Invitation:
    return Invitation(
        workspace_id=row["workspace_id"], invitation_id=row["invitation_id"],
        email=row["email"], role=Role(row["role"]), status=InvitationStatus(row["status"]),
        invited_by=row["invited_by"], user_id=row["user_id"],
        created_at=_dt(row["created_at"]), expires_at=_dt(row["expires_at"]),
        accepted_at=_dt(row["accepted_at"]), revoked_by=row["revoked_by"],
        revoked_at=_dt(row["revoked_at"]))


class SqliteMembersMixin:
    """Needs ``self._exec(sql, params)``, ``self._db`` and ``self._lock`` from the store."""

    def _transaction(self):
        return immediate_transaction(self._db, self._lock)

    def _editors_besides(self, workspace_id: str, user_id: str) -> int:
        return self._db.execute(
            "SELECT COUNT(*) FROM members WHERE workspace_id=? AND user_id<>? AND role='editor' "
            "AND status='active'", (workspace_id, user_id)).fetchone()[0]

    # ------------------------------------------------------------------ members
    def get_member(self, workspace_id: str, user_id: str) -> Member | None:
        row = self._exec("SELECT * FROM members WHERE workspace_id=? AND user_id=?",
                         (workspace_id, user_id)).fetchone()
        return _member(row) if row else None

    def list_members(self, workspace_id: str) -> list[Member]:
        rows = self._exec("SELECT * FROM members WHERE workspace_id=? ORDER BY joined_at, user_id",
                          (workspace_id,)).fetchall()
        return [_member(r) for r in rows]

    def join_member(self, member: Member, *, accepting: Invitation | None = None,
                    now: datetime | None = None) -> JoinResult:
        now = now or utcnow()
        m = member
        with self._transaction():
            row = self._db.execute("SELECT status FROM members WHERE workspace_id=? AND user_id=?",
                                   (m.workspace_id, m.user_id)).fetchone()
            if row and row["status"] == MemberStatus.ACTIVE.value:
                return JoinResult.ALREADY_MEMBER
            if accepting is not None:
                accepted = self._db.execute(
                    "UPDATE invitations SET status='accepted', accepted_at=? WHERE "
                    "workspace_id=? AND invitation_id=? AND status='pending' AND expires_at>?",
                    (_ts(now), accepting.workspace_id, accepting.invitation_id, _ts(now)))
                if accepted.rowcount != 1:
                    return JoinResult.INVITATION_GONE
            self._db.execute(
                "INSERT OR REPLACE INTO members VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (m.workspace_id, m.user_id, m.role.value, MemberStatus.ACTIVE.value, m.email,
                 m.invited_by, m.invitation_id, _ts(m.joined_at), _ts(m.updated_at), None,
                 None, m.sessions_not_before))
        return JoinResult.JOINED

    def change_member_role(self, workspace_id: str, user_id: str, role: Role, *,
                           now: datetime | None = None) -> MemberChange:
        with self._transaction():
            row = self._db.execute(
                "SELECT role FROM members WHERE workspace_id=? AND user_id=? AND status='active'",
                (workspace_id, user_id)).fetchone()
            if row is None:
                return MemberChange.NOT_FOUND
            if row["role"] == role.value:
                return MemberChange.UNCHANGED
            if role != Role.EDITOR and not self._editors_besides(workspace_id, user_id):
                return MemberChange.LAST_EDITOR
            self._db.execute(
                "UPDATE members SET role=?, updated_at=? WHERE workspace_id=? AND user_id=?",
                (role.value, _ts(now or utcnow()), workspace_id, user_id))
        return MemberChange.DONE

    def remove_member(self, workspace_id: str, user_id: str, *, removed_by: str,
                      now: datetime | None = None) -> MemberChange:
        now = now or utcnow()
        with self._transaction():
            row = self._db.execute(
                "SELECT role FROM members WHERE workspace_id=? AND user_id=? AND status='active'",
                (workspace_id, user_id)).fetchone()
            if row is None:
                return MemberChange.NOT_FOUND
            if row["role"] == Role.EDITOR.value and not self._editors_besides(workspace_id,
                                                                               user_id):
                return MemberChange.LAST_EDITOR
            self._db.execute(
                "UPDATE members SET status='removed', removed_by=?, removed_at=?, updated_at=? "
                "WHERE workspace_id=? AND user_id=?",
                (removed_by, _ts(now), _ts(now), workspace_id, user_id))
        return MemberChange.DONE

    def end_member_sessions(self, workspace_id: str, user_id: str, not_before: int) -> bool:
        cur = self._exec(
            "UPDATE members SET sessions_not_before=MAX(COALESCE(sessions_not_before, 0), ?) "
            "WHERE workspace_id=? AND user_id=? AND status='active'",
            (int(not_before), workspace_id, user_id))
        return cur.rowcount == 1

    # -------------------------------------------------------------- invitations
    def put_invitation(self, invitation: Invitation) -> None:
        i = invitation
        self._exec("INSERT OR REPLACE INTO invitations VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                   (i.workspace_id, i.invitation_id, i.email, i.role.value, i.status.value,
                    i.invited_by, i.user_id, _ts(i.created_at), _ts(i.expires_at),
                    _ts(i.accepted_at), i.revoked_by, _ts(i.revoked_at)))

    def get_invitation(self, workspace_id: str, invitation_id: str) -> Invitation | None:
        row = self._exec("SELECT * FROM invitations WHERE workspace_id=? AND invitation_id=?",
                         (workspace_id, invitation_id)).fetchone()
        return _invitation(row) if row else None

    def list_invitations(self, workspace_id: str) -> list[Invitation]:
        rows = self._exec("SELECT * FROM invitations WHERE workspace_id=? "
                          "ORDER BY created_at DESC, invitation_id", (workspace_id,)).fetchall()
        return [_invitation(r) for r in rows]

    def update_invitation(self, invitation: Invitation, *,
                          allowed_from: tuple[InvitationStatus, ...]) -> bool:
        if not allowed_from:
            return False
        i = invitation
        marks = ",".join("?" for _ in allowed_from)
        cur = self._exec(
            f"UPDATE invitations SET email=?, role=?, status=?, user_id=?, expires_at=?, "
            f"accepted_at=?, revoked_by=?, revoked_at=? WHERE workspace_id=? AND invitation_id=? "
            f"AND status IN ({marks})",
            (i.email, i.role.value, i.status.value, i.user_id, _ts(i.expires_at),
             _ts(i.accepted_at), i.revoked_by, _ts(i.revoked_at), i.workspace_id,
             i.invitation_id, *(InvitationStatus(s).value for s in allowed_from)))
        return cur.rowcount == 1

    # ------------------------------------------------------- inbox and devices
    def get_inbox(self, workspace_id: str, user_id: str) -> MemberInbox | None:
        row = self._exec("SELECT * FROM member_inbox WHERE workspace_id=? AND user_id=?",
                         (workspace_id, user_id)).fetchone()
        return _inbox(row) if row else None

    def list_inboxes(self, workspace_id: str) -> list[MemberInbox]:
        rows = self._exec("SELECT * FROM member_inbox WHERE workspace_id=? ORDER BY user_id",
                          (workspace_id,)).fetchall()
        return [_inbox(r) for r in rows]

    def mark_seen(self, workspace_id: str, user_id: str, at: datetime) -> None:
        # Fixed-width UTC strings: MAX() keeps the later instant.
        self._exec("INSERT INTO member_inbox (workspace_id, user_id, seen_at) VALUES (?,?,?) "
                   "ON CONFLICT (workspace_id, user_id) DO UPDATE SET "
                   "seen_at=MAX(COALESCE(seen_at, ''), excluded.seen_at)",
                   (workspace_id, user_id, _ts(at)))

    def set_push_muted(self, workspace_id: str, user_id: str, muted: bool) -> None:
        self._exec("INSERT INTO member_inbox (workspace_id, user_id, push_muted) VALUES (?,?,?) "
                   "ON CONFLICT (workspace_id, user_id) DO UPDATE SET "
                   "push_muted=excluded.push_muted", (workspace_id, user_id, int(muted)))

    def register_device(self, device: Device) -> Device:
        d = device
        with self._transaction():
            self._db.execute(
                "INSERT INTO devices VALUES (?,?,?,?,?,?) ON CONFLICT (workspace_id, device_id) "
                "DO UPDATE SET platform=excluded.platform, created_at=CASE WHEN "
                "user_id=excluded.user_id THEN created_at ELSE excluded.created_at END, "
                "user_id=excluded.user_id",
                (d.workspace_id, d.device_id, d.user_id, d.token, d.platform.value,
                 _ts(d.created_at)))
            row = self._db.execute("SELECT * FROM devices WHERE workspace_id=? AND device_id=?",
                                   (d.workspace_id, d.device_id)).fetchone()
        return _device(row)

    def list_devices(self, workspace_id: str, user_id: str | None = None) -> list[Device]:
        mine = " AND user_id=?" if user_id is not None else ""
        rows = self._exec(f"SELECT * FROM devices WHERE workspace_id=?{mine} "
                          f"ORDER BY created_at, device_id",
                          (workspace_id, *(() if user_id is None else (user_id,)))).fetchall()
        return [_device(r) for r in rows]

    def delete_device(self, workspace_id: str, device_id: str,
                      user_id: str | None = None) -> bool:
        mine = " AND user_id=?" if user_id is not None else ""
        cur = self._exec(f"DELETE FROM devices WHERE workspace_id=? AND device_id=?{mine}",
                         (workspace_id, device_id, *(() if user_id is None else (user_id,))))
        return cur.rowcount == 1


def _inbox(row: sqlite3.Row) -> MemberInbox:
    return MemberInbox(workspace_id=row["workspace_id"], user_id=row["user_id"],
                       seen_at=_dt(row["seen_at"]), push_muted=bool(row["push_muted"]))


def _device(row: sqlite3.Row) -> Device:
    return Device(workspace_id=row["workspace_id"], device_id=row["device_id"],
                  user_id=row["user_id"], token=row["token"], platform=Platform(row["platform"]),
                  created_at=_dt(row["created_at"]))
