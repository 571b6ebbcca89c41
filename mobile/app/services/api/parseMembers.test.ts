import { parseDevices, parseInvitation, parseInvitationCreated, parseInvitations, parseMe, parseMembers, parseMuted, parseSignedIn } from "./parseMembers";

describe("parseMembers", () => {
  it("parseMe keeps known fields, fills optional ones, refuses a missing id or unknown role", () => {
    expect(parseMe({ user_id: "u", workspace_id: "w", role: "member", unread_notices: 2.7, push_muted: false })).toEqual({
      user_id: "u",
      workspace_id: "w",
      role: "member",
      email: null,
      personal_workspace: false,
      joined_at: null,
      invited_by: null,
      unread_notices: 2,
      push_muted: false,
    });
    expect(parseMe({ user_id: "u", workspace_id: "w", role: "member", unread_notices: -1 })?.unread_notices).toBe(0);
    expect(parseMe({ user_id: "u", workspace_id: "w", role: "member", unread_notices: "3" })?.unread_notices).toBeNull();
    expect(parseMe({ workspace_id: "w", role: "member" })).toBeNull();
    expect(parseMe({ user_id: "u", workspace_id: "w", role: "admin" })).toBeNull();
    expect(parseMe(null)).toBeNull();
  });

  it("lists refuse a malformed entry", () => {
    expect(parseMembers({ members: [{ user_id: "a", role: "editor", joined_at: "t" }] })).toEqual([{ user_id: "a", role: "editor", email: null, joined_at: "t", invited_by: null }]);
    expect(parseMembers({ members: [{ user_id: "a", role: "editor" }, { role: "member" }] })).toBeNull();
    expect(parseMembers([])).toBeNull();
    expect(parseInvitations({ invitations: [] })).toEqual([]);
  });

  it("an unknown invitation status is treated as not pending; the code is kept", () => {
    const i = { invitation_id: "i", email: "a@b.c", role: "member", status: "bouncing" };
    expect(parseInvitation(i)?.status).toBe("expired");
    expect(parseInvitationCreated({ ...i, status: "pending", code: "abc" })).toMatchObject({ status: "pending", code: "abc" });
    expect(parseInvitationCreated({ ...i, code: null })?.code).toBeNull();
    expect(parseInvitation({ ...i, email: "" })).toBeNull();
  });

  it("sign-in answers, mute answers and devices", () => {
    expect(parseSignedIn({ token: "t", user_id: "u", workspace_id: "w", role: "editor" })).toEqual({ token: "t", expires_at: "", user_id: "u", workspace_id: "w", role: "editor", email: "" });
    expect(parseSignedIn({ token: "t", user_id: "u", workspace_id: "w" })).toBeNull();
    expect(parseMuted({ muted: false })).toEqual({ muted: false });
    expect(parseMuted({ muted: "no" })).toBeNull();
    expect(parseDevices([{ device_id: "d", platform: "web" }])).toEqual([{ device_id: "d", platform: "web", expo_push_token: null, created_at: null }]);
    expect(parseDevices({ devices: [{ platform: "web" }] })).toBeNull();
  });
});
