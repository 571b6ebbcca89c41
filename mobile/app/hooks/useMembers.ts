import { useCallback, useState } from "react";

import { useApi } from "../context/AuthContext";
import type { ApiResult, Invitation, InvitationCreated, Member, Role } from "../services/api";
import { useResource } from "./useResource";

/** The Members screen's data: members, pending invitations, and the editor's actions on them.
 * Each action reloads what it changed when the server agreed. */
export function useMembers() {
  const api = useApi();
  const members = useResource<Member[]>(() => api.listMembers(), [api]);
  const invitations = useResource<Invitation[]>(() => api.listInvitations("pending"), [api]);
  const [busy, setBusy] = useState<string | null>(null);

  const run = useCallback(async <T,>(key: string, call: () => Promise<ApiResult<T>>, after: () => Promise<void>) => {
    setBusy(key);
    try {
      const r = await call();
      if (r.kind === "ok") await after();
      return r;
    } finally {
      setBusy(null);
    }
  }, []);

  return {
    members,
    invitations,
    /** Which action runs now: `role:<id>`, `remove:<id>`, `revoke:<id>` or `invite`. */
    busy,
    changeRole: (userId: string, role: Role) => run(`role:${userId}`, () => api.changeRole(userId, role), () => members.reload("quiet")),
    remove: (userId: string) => run(`remove:${userId}`, () => api.removeMember(userId), () => members.reload("quiet")),
    revoke: (invitationId: string) => run(`revoke:${invitationId}`, () => api.revokeInvitation(invitationId), () => invitations.reload("quiet")),
    invite: (email: string, role: Role): Promise<ApiResult<InvitationCreated>> => run("invite", () => api.invite(email.trim(), role), () => invitations.reload("quiet")),
  };
}
