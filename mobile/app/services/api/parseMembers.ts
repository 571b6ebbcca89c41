/**
 * Checks and normalises the JSON of the members, invitations, accounts and notifications routes
 * (as `parse.ts` does for the others): the typed value, or null when a required field is missing
 * or of the wrong type, so the client answers `bad-data` instead of handing screens `undefined`.
 */
import type { Device, Invitation, InvitationCreated, InvitationStatus, Me, Member, Role, SignedIn } from "./types";

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const nonEmpty = (v: unknown): v is string => typeof v === "string" && v !== "";
const strOrNull = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);
const role = (v: unknown): Role | null => (v === "editor" || v === "member" ? v : null);
const STATUSES: InvitationStatus[] = ["pending", "accepted", "revoked", "expired"];

function listOf<T>(v: unknown, field: string, parse: (item: unknown) => T | null): T[] | null {
  if (!isObject(v) || !Array.isArray(v[field])) return null;
  const items = (v[field] as unknown[]).map(parse);
  return items.every((i): i is T => i !== null) ? items : null;
}

export function parseMe(v: unknown): Me | null {
  if (!isObject(v) || !nonEmpty(v.user_id) || !nonEmpty(v.workspace_id)) return null;
  const r = role(v.role);
  if (!r) return null;
  const unread = typeof v.unread_notices === "number" && Number.isFinite(v.unread_notices) ? Math.max(0, Math.floor(v.unread_notices)) : null;
  return {
    user_id: v.user_id,
    workspace_id: v.workspace_id,
    role: r,
    email: strOrNull(v.email),
    personal_workspace: v.personal_workspace === true,
    joined_at: strOrNull(v.joined_at),
    invited_by: strOrNull(v.invited_by),
    unread_notices: unread,
    push_muted: typeof v.push_muted === "boolean" ? v.push_muted : null,
  };
}

export function parseMember(v: unknown): Member | null {
  if (!isObject(v) || !nonEmpty(v.user_id)) return null;
  const r = role(v.role);
  if (!r) return null;
  return { user_id: v.user_id, role: r, email: strOrNull(v.email), joined_at: typeof v.joined_at === "string" ? v.joined_at : "", invited_by: strOrNull(v.invited_by) };
}

export const parseMembers = (v: unknown): Member[] | null => listOf(v, "members", parseMember);

export function parseInvitation(v: unknown): Invitation | null {
  if (!isObject(v) || !nonEmpty(v.invitation_id) || !nonEmpty(v.email)) return null;
  const r = role(v.role);
  if (!r) return null;
  // A status this app does not know (a newer server) is shown as not pending: nothing to revoke.
  const status = STATUSES.includes(v.status as InvitationStatus) ? (v.status as InvitationStatus) : "expired";
  return {
    invitation_id: v.invitation_id,
    email: v.email,
    role: r,
    status,
    invited_by: typeof v.invited_by === "string" ? v.invited_by : "",
    created_at: typeof v.created_at === "string" ? v.created_at : "",
    expires_at: typeof v.expires_at === "string" ? v.expires_at : "",
    accepted_at: strOrNull(v.accepted_at),
    revoked_at: strOrNull(v.revoked_at),
  };
}

export const parseInvitations = (v: unknown): Invitation[] | null => listOf(v, "invitations", parseInvitation);

export function parseInvitationCreated(v: unknown): InvitationCreated | null {
  const invitation = parseInvitation(v);
  return invitation ? { ...invitation, code: strOrNull((v as Json).code) } : null;
}

export function parseSignedIn(v: unknown): SignedIn | null {
  if (!isObject(v) || !nonEmpty(v.token) || !nonEmpty(v.user_id) || !nonEmpty(v.workspace_id)) return null;
  const r = role(v.role);
  if (!r) return null;
  return { token: v.token, expires_at: typeof v.expires_at === "string" ? v.expires_at : "", user_id: v.user_id, workspace_id: v.workspace_id, role: r, email: typeof v.email === "string" ? v.email : "" };
}

/** `{muted: bool}` of `PUT /api/me/notifications`. */
export function parseMuted(v: unknown): { muted: boolean } | null {
  return isObject(v) && typeof v.muted === "boolean" ? { muted: v.muted } : null;
}

export function parseDevice(v: unknown): Device | null {
  if (!isObject(v) || !nonEmpty(v.device_id)) return null;
  return {
    device_id: v.device_id,
    platform: typeof v.platform === "string" ? v.platform : "",
    expo_push_token: strOrNull(v.expo_push_token),
    created_at: strOrNull(v.created_at),
  };
}

/** `{devices: [...]}`; a bare list is accepted too. */
export function parseDevices(v: unknown): Device[] | null {
  if (Array.isArray(v)) return parseDevices({ devices: v });
  return listOf(v, "devices", parseDevice);
}
