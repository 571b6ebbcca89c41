/** The members, invitations, accounts and notifications methods of the client. */
import { Api, type FetchLike } from "./api";
import { retryAfterSeconds } from "./apiProblem";

function response(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  const text = body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body);
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { ok: status >= 200 && status < 300, status, text: async () => text, headers: { get: (n: string) => lower[n.toLowerCase()] ?? null } } as unknown as Response;
}

function client(fetchImpl: FetchLike, token: string | null = "tok") {
  const api = new Api({ baseUrl: "http://api.test", fetch: fetchImpl, isOnline: () => true });
  api.setToken(token);
  return api;
}

const call = (f: jest.Mock, i = 0) => {
  const [url, init] = f.mock.calls[i] as unknown as [string, RequestInit];
  return { url, method: init.method, body: init.body ? JSON.parse(init.body as string) : undefined, auth: (init.headers as Record<string, string>).Authorization };
};

const ME = { user_id: "u1", workspace_id: "club", role: "editor", email: "ed@club.test", personal_workspace: false, joined_at: "2026-01-01T00:00:00Z", invited_by: "operator" };
const SIGNED_IN = { token: "a.b.c", token_type: "Bearer", expires_at: "2026-01-02T00:00:00Z", user_id: "u1", workspace_id: "club", role: "editor", email: "ed@club.test" };
const INVITATION = { invitation_id: "i1", email: "sam@club.test", role: "member", status: "pending", invited_by: "u1", created_at: "2026-01-01T00:00:00Z", expires_at: "2026-01-08T00:00:00Z", accepted_at: null, revoked_at: null };

describe("Api: the caller and accounts", () => {
  it("getMe parses the caller; unread and muted are null where the server has none", async () => {
    const f = jest.fn(async () => response(200, ME));
    const r = await client(f).getMe();
    expect(r).toEqual({ kind: "ok", data: { ...ME, unread_notices: null, push_muted: null } });
    expect(call(f)).toMatchObject({ url: "http://api.test/api/me", method: "GET", auth: "Bearer tok" });
    const r2 = await client(async () => response(200, { ...ME, unread_notices: 3, push_muted: true })).getMe();
    expect(r2.kind === "ok" && [r2.data.unread_notices, r2.data.push_muted]).toEqual([3, true]);
    expect((await client(async () => response(200, { ...ME, role: "owner" })).getMe()).kind).toBe("bad-data");
  });

  it("signIn posts e-mail and password without a token; a 401 does not sign anyone out", async () => {
    const f = jest.fn(async () => response(200, SIGNED_IN));
    const api = client(f);
    const handler = jest.fn();
    api.setUnauthorizedHandler(handler);
    const r = await api.signIn("ed@club.test", "correct horse battery");
    expect(r).toEqual({ kind: "ok", data: { token: "a.b.c", expires_at: SIGNED_IN.expires_at, user_id: "u1", workspace_id: "club", role: "editor", email: "ed@club.test" } });
    expect(call(f)).toEqual({ url: "http://api.test/api/auth/sign-in", method: "POST", body: { email: "ed@club.test", password: "correct horse battery" }, auth: undefined });
    f.mockResolvedValueOnce(response(401, { error: { code: "unauthorized", message: "the e-mail address or the password is wrong" } }));
    expect(await api.signIn("ed@club.test", "nope")).toEqual({ kind: "unauthorized", message: "the e-mail address or the password is wrong" });
    expect(handler).not.toHaveBeenCalled();
  });

  it("a 429 carries the Retry-After wait", async () => {
    const r = await client(async () => response(429, { error: { code: "too_many_requests", message: "try again in 30 s" } }, { "Retry-After": "30" })).signIn("a@b.c", "x");
    expect(r).toEqual({ kind: "rejected", status: 429, code: "too_many_requests", message: "try again in 30 s", retryAfterSeconds: 30 });
    const noHeader = await client(async () => response(429, {})).signIn("a@b.c", "x");
    expect(noHeader).toEqual({ kind: "rejected", status: 429, code: "http_429", message: "Too many attempts; wait a moment and try again." });
  });

  it("reads Retry-After as seconds or as a date", () => {
    expect(retryAfterSeconds("12")).toBe(12);
    expect(retryAfterSeconds("0")).toBe(1);
    expect(retryAfterSeconds(new Date(1_000_000 + 5_000).toUTCString(), 1_000_000)).toBe(5);
    expect(retryAfterSeconds("soon")).toBeNull();
    expect(retryAfterSeconds(null)).toBeNull();
  });

  it("acceptInvitation is public; signOut is 204", async () => {
    const f = jest.fn(async () => response(200, SIGNED_IN));
    const api = client(f);
    expect((await api.acceptInvitation("CODE1234567890abcdef", "a long password")).kind).toBe("ok");
    expect(call(f)).toEqual({ url: "http://api.test/api/invitations/accept", method: "POST", body: { code: "CODE1234567890abcdef", password: "a long password" }, auth: undefined });
    f.mockResolvedValueOnce(response(404, { error: { code: "not_found", message: "no open invitation has this code" } }));
    expect(await api.acceptInvitation("x", "y")).toEqual({ kind: "not-found", code: "not_found", message: "no open invitation has this code" });
    f.mockResolvedValueOnce(response(204, undefined));
    expect(await api.signOut()).toEqual({ kind: "ok", data: null });
    expect(call(f, 2)).toMatchObject({ url: "http://api.test/api/auth/sign-out", method: "POST", auth: "Bearer tok" });
  });

  it("a 403 with a token tells the forbidden handler; a bad sign-in answer is bad-data", async () => {
    const api = client(async () => response(403, { error: { code: "forbidden", message: "you were removed from this workspace" } }));
    const handler = jest.fn();
    api.setForbiddenHandler(handler);
    const r = await api.listNotices();
    expect(r).toEqual({ kind: "forbidden", message: "you were removed from this workspace" });
    expect(handler).toHaveBeenCalledWith(r);
    expect((await client(async () => response(200, { token: "" })).signIn("a@b.c", "x")).kind).toBe("bad-data");
  });
});

describe("Api: members and invitations", () => {
  it("lists, changes the role of and removes members", async () => {
    const member = { user_id: "u2", role: "member", email: "sam@club.test", joined_at: "2026-01-01T00:00:00Z", invited_by: "u1" };
    const f = jest.fn(async () => response(200, { members: [member] }));
    const api = client(f);
    expect(await api.listMembers()).toEqual({ kind: "ok", data: [member] });
    f.mockResolvedValueOnce(response(200, { ...member, role: "editor" }));
    expect(await api.changeRole("u2", "editor")).toEqual({ kind: "ok", data: { ...member, role: "editor" } });
    expect(call(f, 1)).toMatchObject({ url: "http://api.test/api/members/u2", method: "PATCH", body: { role: "editor" } });
    f.mockResolvedValueOnce(response(409, { error: { code: "conflict", message: "a workspace keeps at least one editor" } }));
    expect(await api.changeRole("u1", "member")).toEqual({ kind: "rejected", status: 409, code: "conflict", message: "a workspace keeps at least one editor" });
    f.mockResolvedValueOnce(response(204, undefined));
    expect(await api.removeMember("u/2")).toEqual({ kind: "ok", data: null });
    expect(call(f, 3)).toMatchObject({ url: "http://api.test/api/members/u%2F2", method: "DELETE" });
    f.mockResolvedValueOnce(response(200, { people: [] }));
    expect((await api.listMembers()).kind).toBe("bad-data");
  });

  it("invites (the local code comes back), lists by status and revokes", async () => {
    const f = jest.fn(async () => response(201, { ...INVITATION, code: "one-time-code-123456" }));
    const api = client(f);
    expect(await api.invite("sam@club.test", "member")).toEqual({ kind: "ok", data: { ...INVITATION, code: "one-time-code-123456" } });
    expect(call(f)).toMatchObject({ url: "http://api.test/api/invitations", method: "POST", body: { email: "sam@club.test", role: "member" } });
    f.mockResolvedValueOnce(response(201, { ...INVITATION, code: null }));
    const cognito = await api.invite("sam@club.test", "member");
    expect(cognito.kind === "ok" && cognito.data.code).toBeNull();
    f.mockResolvedValueOnce(response(200, { invitations: [INVITATION] }));
    expect(await api.listInvitations("pending")).toEqual({ kind: "ok", data: [INVITATION] });
    expect(call(f, 2).url).toBe("http://api.test/api/invitations?status=pending");
    f.mockResolvedValueOnce(response(204, undefined));
    expect(await api.revokeInvitation("i1")).toEqual({ kind: "ok", data: null });
    expect(call(f, 3)).toMatchObject({ url: "http://api.test/api/invitations/i1", method: "DELETE" });
  });
});

describe("Api: unread notices and pushes", () => {
  it("marks notices seen (204) and mutes pushes", async () => {
    const f = jest.fn(async () => response(204, undefined));
    const api = client(f);
    expect(await api.markNoticesSeen()).toEqual({ kind: "ok", data: null });
    expect(call(f)).toMatchObject({ url: "http://api.test/api/notices/seen", method: "POST" });
    f.mockResolvedValueOnce(response(200, { muted: true }));
    expect(await api.setPushMuted(true)).toEqual({ kind: "ok", data: { muted: true } });
    expect(call(f, 1)).toMatchObject({ url: "http://api.test/api/me/notifications", method: "PUT", body: { muted: true } });
    f.mockResolvedValueOnce(response(404, { error: { code: "not_found", message: "no route" } }));
    expect((await api.markNoticesSeen()).kind).toBe("not-found");
  });

  it("registers, lists and removes devices", async () => {
    const f = jest.fn(async () => response(201, { device_id: "d1", platform: "ios", expo_push_token: "ExponentPushToken[abc]" }));
    const api = client(f);
    expect(await api.registerDevice("ExponentPushToken[abc]", "ios")).toEqual({ kind: "ok", data: { device_id: "d1", platform: "ios", expo_push_token: "ExponentPushToken[abc]", created_at: null } });
    expect(call(f)).toMatchObject({ url: "http://api.test/api/devices", method: "POST", body: { expo_push_token: "ExponentPushToken[abc]", platform: "ios" } });
    f.mockResolvedValueOnce(response(201, undefined));
    expect(await api.registerDevice("ExponentPushToken[abc]", "android")).toEqual({ kind: "ok", data: null });
    f.mockResolvedValueOnce(response(200, { devices: [{ device_id: "d1", platform: "ios" }] }));
    const list = await api.listDevices();
    expect(list.kind === "ok" && list.data.map((d) => d.device_id)).toEqual(["d1"]);
    f.mockResolvedValueOnce(response(204, undefined));
    expect(await api.removeDevice("d1")).toEqual({ kind: "ok", data: null });
    expect(call(f, 3)).toMatchObject({ url: "http://api.test/api/devices/d1", method: "DELETE" });
  });
});
