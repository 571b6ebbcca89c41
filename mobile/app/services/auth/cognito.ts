/**
 * Cognito sign-in through the user pool's standard hosted UI (OAuth 2.0 authorization code + PKCE).
 *
 * It sits behind the `SignInProvider` interface so the sign-in screen does not know which flow it
 * runs. It needs a real user pool (EXPO_PUBLIC_COGNITO_DOMAIN, EXPO_PUBLIC_COGNITO_CLIENT_ID), so it
 * is covered by unit tests of the URL and the token exchange against a fake fetch, not end to end.
 */
import type { CognitoConfig } from "../../config";
import type { FetchLike } from "../api/api";
import { base64Url, sha256 } from "./sha256";
import type { KeyValueStorage } from "./storageTypes";

export const PKCE_KEY = "noticebot.pkce";

export interface SignInProvider {
  readonly id: string;
  readonly label: string;
  /** Start the flow: for a redirect flow this leaves the app (browser / hosted UI). */
  start(): Promise<{ ok: true } | { ok: false; reason: string }>;
}

export interface PkceState {
  verifier: string;
  state: string;
  redirectUri: string;
}

function randomString(length: number, random: () => number = Math.random): string {
  const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
  const cryptoObj = (globalThis as { crypto?: { getRandomValues?: (a: Uint8Array) => Uint8Array } }).crypto;
  const bytes = new Uint8Array(length);
  if (cryptoObj?.getRandomValues) cryptoObj.getRandomValues(bytes);
  else for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
  return Array.from(bytes, (b) => chars[b % chars.length]).join("");
}

export function pkceChallenge(verifier: string): string {
  return base64Url(sha256(verifier));
}

export function authorizeUrl(cfg: CognitoConfig, pkce: PkceState): string {
  const params = new URLSearchParams({
    response_type: "code",
    client_id: cfg.clientId,
    redirect_uri: pkce.redirectUri,
    scope: cfg.scopes.join(" "),
    state: pkce.state,
    code_challenge: pkceChallenge(pkce.verifier),
    code_challenge_method: "S256",
  });
  return `https://${cfg.domain}/oauth2/authorize?${params.toString()}`;
}

export type ExchangeResult = { ok: true; idToken: string; refreshToken?: string } | { ok: false; reason: string };

/** Trade the authorization code for tokens at the hosted UI's token endpoint. */
export async function exchangeCode(
  cfg: CognitoConfig,
  code: string,
  pkce: PkceState,
  fetchImpl: FetchLike = (u, i) => fetch(u, i),
): Promise<ExchangeResult> {
  const body = new URLSearchParams({
    grant_type: "authorization_code",
    client_id: cfg.clientId,
    code,
    redirect_uri: pkce.redirectUri,
    code_verifier: pkce.verifier,
  });
  try {
    const res = await fetchImpl(`https://${cfg.domain}/oauth2/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: body.toString(),
    });
    const json = (await res.json().catch(() => ({}))) as Record<string, string>;
    if (!res.ok || !json.id_token) {
      return { ok: false, reason: json.error_description || json.error || `Sign-in failed (${res.status}).` };
    }
    return { ok: true, idToken: json.id_token, refreshToken: json.refresh_token };
  } catch {
    return { ok: false, reason: "Cannot reach the sign-in service. Check your connection." };
  }
}

export interface CognitoDeps {
  storage: KeyValueStorage;
  /** Opens the hosted UI: `window.location.assign` on web, `Linking.openURL` on native. */
  openUrl: (url: string) => Promise<void> | void;
  defaultRedirectUri: () => string;
}

export function cognitoHostedUi(cfg: CognitoConfig, deps: CognitoDeps): SignInProvider {
  return {
    id: "cognito",
    label: "Sign in with your organisation account",
    async start() {
      const pkce: PkceState = {
        verifier: randomString(64),
        state: randomString(24),
        redirectUri: cfg.redirectUri || deps.defaultRedirectUri(),
      };
      await deps.storage.setItem(PKCE_KEY, JSON.stringify(pkce));
      try {
        await deps.openUrl(authorizeUrl(cfg, pkce));
        return { ok: true };
      } catch {
        return { ok: false, reason: "Could not open the sign-in page." };
      }
    },
  };
}

/** Finish the flow on the redirect route (`/auth/callback?code=...&state=...`). */
export async function completeCognitoSignIn(
  cfg: CognitoConfig,
  params: { code?: string; state?: string; error?: string; error_description?: string },
  storage: KeyValueStorage,
  fetchImpl: FetchLike = (u, i) => fetch(u, i),
): Promise<ExchangeResult> {
  if (params.error) return { ok: false, reason: params.error_description || params.error };
  const raw = await storage.getItem(PKCE_KEY);
  await storage.deleteItem(PKCE_KEY);
  if (!raw || !params.code) return { ok: false, reason: "The sign-in was not started from this app. Try again." };
  let pkce: PkceState;
  try {
    pkce = JSON.parse(raw) as PkceState;
  } catch {
    return { ok: false, reason: "The sign-in state was lost. Try again." };
  }
  if (pkce.state !== params.state) return { ok: false, reason: "The sign-in answer does not match this request. Try again." };
  return exchangeCode(cfg, params.code, pkce, fetchImpl);
}
