/**
 * Who is signed in, and the API client that carries their token. Sits between the screens and
 * `services/api`: screens call `useAuth()` / `useApi()`, never `fetch`.
 */
import * as Linking from "expo-linking";
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useRef, useState } from "react";
import { Platform } from "react-native";

import { type CognitoConfig, config } from "../config";
import { Api, type ApiClient, type FetchLike } from "../services/api";
import { cognitoHostedUi, completeCognitoSignIn, type SignInProvider } from "../services/auth/cognito";
import { type Session, sessionFromToken } from "../services/auth/jwt";
import { secureStorage } from "../services/auth/secureStorage";
import { type KeyValueStorage, TOKEN_KEY } from "../services/auth/storageTypes";

export type AuthStatus = "loading" | "signedOut" | "signedIn";
export type SignInResult = { ok: true } | { ok: false; reason: string };

export interface AuthContextValue {
  status: AuthStatus;
  session: Session | null;
  /** Why the user was sent back to sign-in (expired token, signed out), shown there once. */
  signOutReason: string | null;
  /** Sign-in flows besides the dev token (Cognito hosted UI when configured). */
  providers: SignInProvider[];
  signInWithToken(token: string): Promise<SignInResult>;
  completeCognito(params: Record<string, string | undefined>): Promise<SignInResult>;
  signOut(reason?: string): Promise<void>;
}

const AuthContext = createContext<AuthContextValue | null>(null);
const ApiContext = createContext<ApiClient | null>(null);

export interface AppProvidersProps {
  children: ReactNode;
  /** Tests inject a fake client; the app builds the real one from configuration. */
  api?: ApiClient;
  storage?: KeyValueStorage;
  /** Start signed in (tests). */
  initialSession?: Session | null;
  cognito?: CognitoConfig | null;
  fetchImpl?: FetchLike;
}

function defaultRedirectUri(): string {
  if (Platform.OS === "web" && typeof window !== "undefined") return `${window.location.origin}/auth/callback`;
  try {
    return Linking.createURL("/auth/callback");
  } catch {
    return "noticebot://auth/callback"; // the app.json scheme
  }
}

async function openUrl(url: string) {
  if (Platform.OS === "web" && typeof window !== "undefined") window.location.assign(url);
  else await Linking.openURL(url);
}

export function AppProviders({
  children,
  api: injectedApi,
  storage = secureStorage,
  initialSession,
  cognito = config.cognito,
  fetchImpl,
}: AppProvidersProps) {
  const api = useMemo<ApiClient>(() => {
    const client = injectedApi ?? new Api({ baseUrl: config.apiUrl, timeoutMs: config.timeoutMs });
    client.setToken(initialSession?.token ?? null);
    return client;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [injectedApi]);

  const [status, setStatus] = useState<AuthStatus>(initialSession ? "signedIn" : initialSession === null ? "signedOut" : "loading");
  const [session, setSession] = useState<Session | null>(initialSession ?? null);
  const [signOutReason, setSignOutReason] = useState<string | null>(null);
  const statusRef = useRef(status);
  statusRef.current = status;

  const signOut = useCallback(
    async (reason?: string) => {
      api.setToken(null);
      setSession(null);
      setSignOutReason(reason ?? null);
      setStatus("signedOut");
      await storage.deleteItem(TOKEN_KEY).catch(() => undefined);
    },
    [api, storage],
  );

  // Restore a stored token at start.
  useEffect(() => {
    if (initialSession !== undefined) return;
    let cancelled = false;
    storage
      .getItem(TOKEN_KEY)
      .catch(() => null)
      .then((token) => {
        if (cancelled) return;
        const result = token ? sessionFromToken(token) : null;
        if (result?.ok) {
          api.setToken(result.session.token);
          setSession(result.session);
          setStatus("signedIn");
        } else {
          if (token) storage.deleteItem(TOKEN_KEY).catch(() => undefined);
          setStatus("signedOut");
          if (result && !result.ok) setSignOutReason(result.reason);
        }
      });
    return () => {
      cancelled = true;
    };
  }, [api, storage, initialSession]);

  // Any 401 while signed in: back to sign-in.
  useEffect(() => {
    api.setUnauthorizedHandler((problem) => {
      if (statusRef.current === "signedIn") {
        void signOut(`You were signed out: ${problem.message}`);
      }
    });
    return () => api.setUnauthorizedHandler(null);
  }, [api, signOut]);

  const signInWithToken = useCallback(
    async (token: string): Promise<SignInResult> => {
      const parsed = sessionFromToken(token);
      if (!parsed.ok) return parsed;
      api.setToken(parsed.session.token);
      // Ask the server whether it accepts the token before going on.
      const check = await api.listNotices();
      if (check.kind !== "ok") {
        api.setToken(null);
        return {
          ok: false,
          reason: check.kind === "unauthorized" ? `The server did not accept this token: ${check.message}` : check.message,
        };
      }
      await storage.setItem(TOKEN_KEY, parsed.session.token).catch(() => undefined);
      setSession(parsed.session);
      setSignOutReason(null);
      setStatus("signedIn");
      return { ok: true };
    },
    [api, storage],
  );

  const providers = useMemo<SignInProvider[]>(
    () => (cognito ? [cognitoHostedUi(cognito, { storage, openUrl, defaultRedirectUri })] : []),
    [cognito, storage],
  );

  const completeCognito = useCallback(
    async (params: Record<string, string | undefined>): Promise<SignInResult> => {
      if (!cognito) return { ok: false, reason: "Cognito sign-in is not configured for this app." };
      const result = await completeCognitoSignIn(cognito, params, storage, fetchImpl);
      if (!result.ok) return result;
      return signInWithToken(result.idToken);
    },
    [cognito, storage, fetchImpl, signInWithToken],
  );

  const value = useMemo<AuthContextValue>(
    () => ({ status, session, signOutReason, providers, signInWithToken, completeCognito, signOut }),
    [status, session, signOutReason, providers, signInWithToken, completeCognito, signOut],
  );

  return (
    <ApiContext.Provider value={api}>
      <AuthContext.Provider value={value}>{children}</AuthContext.Provider>
    </ApiContext.Provider>
  );
}

export function useAuth(): AuthContextValue {
  const ctx = useContext(AuthContext);
  if (!ctx) throw new Error("useAuth must be used inside <AppProviders>");
  return ctx;
}

export function useApi(): ApiClient {
  const ctx = useContext(ApiContext);
  if (!ctx) throw new Error("useApi must be used inside <AppProviders>");
  return ctx;
}
