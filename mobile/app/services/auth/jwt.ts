/**
 * Reads the claims of a Cognito ID token (or the local stack's token with the same claims).
 * The signature is checked by the server (API Gateway's authorizer / the local dev server); the app
 * only reads the claims to decide what to show: the workspace, and whether the user is an editor.
 */
export interface Session {
  token: string;
  userId: string;
  username: string;
  workspace: string;
  groups: string[];
  isEditor: boolean;
  /** Seconds since the epoch, or null when the token does not expire. */
  expiresAt: number | null;
}

export type SessionResult = { ok: true; session: Session } | { ok: false; reason: string };

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

function base64UrlDecode(input: string): string {
  const s = input.replace(/-/g, "+").replace(/_/g, "/");
  const bytes: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const ch of s) {
    if (ch === "=") break;
    const v = B64.indexOf(ch);
    if (v < 0) throw new Error("not base64");
    buffer = (buffer << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >> bits) & 0xff);
    }
  }
  // UTF-8 decode
  let out = "";
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i++];
    if (b < 0x80) out += String.fromCharCode(b);
    else if (b < 0xe0) out += String.fromCharCode(((b & 0x1f) << 6) | (bytes[i++] & 0x3f));
    else if (b < 0xf0) out += String.fromCharCode(((b & 0x0f) << 12) | ((bytes[i++] & 0x3f) << 6) | (bytes[i++] & 0x3f));
    else {
      const cp = ((b & 0x07) << 18) | ((bytes[i++] & 0x3f) << 12) | ((bytes[i++] & 0x3f) << 6) | (bytes[i++] & 0x3f);
      out += String.fromCodePoint(cp);
    }
  }
  return out;
}

export function decodeJwtClaims(token: string): Record<string, unknown> | null {
  const parts = token.trim().split(".");
  if (parts.length !== 3) return null;
  try {
    const claims = JSON.parse(base64UrlDecode(parts[1]));
    return claims && typeof claims === "object" ? (claims as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** `cognito:groups` is a list in a decoded JWT; API Gateway may pass it as "[a b]" or "a,b". */
export function groupsOf(raw: unknown): string[] {
  if (Array.isArray(raw)) return raw.map(String);
  if (typeof raw === "string") return raw.split(/[\s,[\]"]+/).filter(Boolean);
  return [];
}

export function sessionFromToken(token: string, nowSeconds = Date.now() / 1000): SessionResult {
  const trimmed = token.trim().replace(/^Bearer\s+/i, "");
  if (!trimmed) return { ok: false, reason: "Paste a token first." };
  const claims = decodeJwtClaims(trimmed);
  if (!claims) return { ok: false, reason: "That is not a valid token (expected a JWT: three parts separated by dots)." };
  const sub = claims.sub;
  if (typeof sub !== "string" || !sub) return { ok: false, reason: "The token names no user ('sub' claim)." };
  const exp = typeof claims.exp === "number" ? claims.exp : null;
  if (exp !== null && exp <= nowSeconds) return { ok: false, reason: "This token has expired. Get a new one and try again." };
  const groups = groupsOf(claims["cognito:groups"]);
  const username = typeof claims["cognito:username"] === "string" ? (claims["cognito:username"] as string) : sub;
  const workspace = typeof claims["custom:workspace"] === "string" && claims["custom:workspace"]
    ? (claims["custom:workspace"] as string)
    : `user-${sub}`;
  return {
    ok: true,
    session: { token: trimmed, userId: sub, username, workspace, groups, isEditor: groups.includes("editors"), expiresAt: exp },
  };
}
