import { authorizeUrl, cognitoHostedUi, completeCognitoSignIn, exchangeCode, pkceChallenge, PKCE_KEY } from "./cognito";
import { decodeJwtClaims, groupsOf, sessionFromToken } from "./jwt";
import { base64Url, sha256 } from "./sha256";
import { memoryStorage } from "./storageTypes";
import { makeToken } from "../../../test/fixtures";

const cfg = { domain: "club.auth.eu-west-1.amazoncognito.com", clientId: "client123", scopes: ["openid", "email"] };

describe("jwt", () => {
  it("reads the workspace and the editors group", () => {
    const r = sessionFromToken(makeToken());
    expect(r).toMatchObject({ ok: true, session: { userId: "dev-editor", workspace: "demo", isEditor: true } });
  });
  it("treats a user without groups as a member of their own workspace", () => {
    const r = sessionFromToken(makeToken({ sub: "sam", "cognito:groups": undefined, "custom:workspace": undefined }));
    expect(r).toMatchObject({ ok: true, session: { isEditor: false, workspace: "user-sam" } });
  });
  it("refuses malformed and expired tokens", () => {
    expect(sessionFromToken("abc")).toMatchObject({ ok: false });
    expect(sessionFromToken("")).toMatchObject({ ok: false, reason: "Paste a token first." });
    expect(sessionFromToken(makeToken({ exp: 10 }))).toMatchObject({ ok: false, reason: expect.stringMatching(/expired/) });
  });
  it("accepts a pasted 'Bearer ' prefix and unicode claims", () => {
    const r = sessionFromToken(`Bearer ${makeToken({ "cognito:username": "zoë" })}`);
    expect(r).toMatchObject({ ok: true, session: { username: "zoë" } });
    expect(decodeJwtClaims("a.!!!.c")).toBeNull();
  });
  it("parses API Gateway's string form of groups", () => {
    expect(groupsOf("[editors admins]")).toEqual(["editors", "admins"]);
    expect(groupsOf("editors,admins")).toEqual(["editors", "admins"]);
  });
});

describe("cognito hosted UI (PKCE)", () => {
  it("hashes with SHA-256", () => {
    expect(Buffer.from(sha256("abc")).toString("hex")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(base64Url(new Uint8Array([251, 255]))).toBe("-_8");
  });
  it("derives the RFC 7636 example challenge", () => {
    expect(pkceChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).toBe("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  });
  it("builds the authorize URL", () => {
    const url = new URL(authorizeUrl(cfg, { verifier: "v".repeat(43), state: "s1", redirectUri: "noticebot://auth/callback" }));
    expect(url.origin + url.pathname).toBe("https://club.auth.eu-west-1.amazoncognito.com/oauth2/authorize");
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      response_type: "code",
      client_id: "client123",
      redirect_uri: "noticebot://auth/callback",
      scope: "openid email",
      state: "s1",
      code_challenge_method: "S256",
    });
  });
  it("exchanges the code for the ID token, and reports a refusal", async () => {
    const fetchOk = jest.fn(async () => ({ ok: true, status: 200, json: async () => ({ id_token: "id.tok.en" }) }) as unknown as Response);
    const pkce = { verifier: "v", state: "s", redirectUri: "http://x/auth/callback" };
    expect(await exchangeCode(cfg, "code1", pkce, fetchOk)).toEqual({ ok: true, idToken: "id.tok.en", refreshToken: undefined });
    const body = new URLSearchParams((fetchOk.mock.calls[0] as unknown as [string, RequestInit])[1].body as string);
    expect(body.get("code_verifier")).toBe("v");
    const fetchBad = async () => ({ ok: false, status: 400, json: async () => ({ error: "invalid_grant" }) }) as unknown as Response;
    expect(await exchangeCode(cfg, "code1", pkce, fetchBad)).toEqual({ ok: false, reason: "invalid_grant" });
  });
  it("refuses a callback whose state does not match", async () => {
    const storage = memoryStorage({ [PKCE_KEY]: JSON.stringify({ verifier: "v", state: "good", redirectUri: "r" }) });
    const r = await completeCognitoSignIn(cfg, { code: "c", state: "evil" }, storage, jest.fn());
    expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(/does not match/) });
  });
  it("starts the flow: keeps the PKCE verifier and opens the hosted UI", async () => {
    const storage = memoryStorage();
    const openUrl = jest.fn();
    const provider = cognitoHostedUi(cfg, { storage, openUrl, defaultRedirectUri: () => "noticebot://auth/callback" });
    expect(await provider.start()).toEqual({ ok: true });
    const saved = JSON.parse((await storage.getItem(PKCE_KEY))!);
    expect(saved.verifier).toHaveLength(64);
    const url = new URL(openUrl.mock.calls[0][0]);
    expect(url.searchParams.get("state")).toBe(saved.state);
    expect(url.searchParams.get("code_challenge")).toBe(pkceChallenge(saved.verifier));
  });
});
