/**
 * Who is signed in, and the API client that carries their token. Sits between the screens and
 * `services/api`: screens call `useAuth()` / `useApi()`, never `fetch`.
 */
import * as Linking from "expo-linking";
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useRef, useState } from "react";
import { Platform } from "react-native";

import { type CognitoConfig, config } from "../config";
import { MeProvider } from "./MeContext";
import { Api, type ApiClient, type ApiProblem, type FetchLike, type SignedIn } from "../services/api";
import { cognitoHostedUi, completeCognitoSignIn, type SignInProvider } from "../services/auth/cognito";
import { type Session, sessionFromToken } from "../services/auth/jwt";
import { secureStorage } from "../services/auth/secureStorage";
import { type KeyValueStorage, TOKEN_KEY } from "../services/auth/storageTypes";
import { useOpenNoticeFromPush } from "../hooks/useOpenNoticeFromPush";
import { defaultNotificationEvents, type NotificationEvents } from "../services/push/notificationEvents";
import { defaultPushTokenSource } from "../services/push/pushTokens";
import { type PushRegistration, registerForPush } from "../services/push/registration";
import type { PushTokenSource } from "../services/push/types";

export type AuthStatus = "loading" | "signedOut" | "signedIn";
export type SignInResult = { ok: true } | { ok: false; reason: string; retryAfterSeconds?: number };

/** What a refused password sign-in or invitation acceptance tells the person. */
export function signInProblemText(problem: ApiProblem, action: "sign-in" | "accept"): { reason: string; retryAfterSeconds?: number } {
  if (problem.kind === "rejected" && problem.status === 429) {
    const wait = problem.retryAfterSeconds;
    return { reason: `Too many failed attempts. ${wait ? `Wait ${formatWait(wait)} and try again.` : "Wait a moment and try again."}`, retryAfterSeconds: wait };
  }
  if (action === "sign-in") {
    if (problem.kind === "unauthorized") return { reason: "The e-mail address or the password is wrong." };
    if (problem.kind === "forbidden") return { reason: `You cannot sign in: ${problem.message}` };
    if (problem.kind === "not-found") return { reason: "This server does not take passwords: sign in with your organisation account." };
  } else {
    if (problem.kind === "not-found") return { reason: "This invitation code is not valid any more: it may have been used, revoked, or have expired. Ask an editor for a new one." };
    if (problem.kind === "rejected" && problem.status === 409) return { reason: `${problem.message}` };
  }
  return { reason: problem.message };
}

export function formatWait(seconds: number): string {
  if (seconds < 60) return `${seconds} second${seconds === 1 ? "" : "s"}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? "" : "s"}`;
}

export interface AuthContextValue {
  status: AuthStatus;
  session: Session | null;
  /** Why the user was sent back to sign-in (expired token, signed out), shown there once. */
  signOutReason: string | null;
  /** Sign-in flows besides the dev token (Cognito hosted UI when configured). */
  providers: SignInProvider[];
  /** Local accounts (no Cognito configured): e-mail + password. */
  passwordSignIn: boolean;
  signInWithToken(token: string): Promise<SignInResult>;
  signInWithPassword(email: string, password: string): Promise<SignInResult>;
  /** Redeems an invitation's one-time code with a new password, and signs in. */
  acceptInvitation(code: string, password: string): Promise<SignInResult>;
  completeCognito(params: Record<string, string | undefined>): Promise<SignInResult>;
  /** Signs out at the server (best effort), forgets the token, and goes to sign-in; `reason`
   * is shown there. */
  signOut(reason?: string): Promise<void>;
  /** The last push registration after sign-in (native only; skipped on the web). */
  push: PushRegistration | null;
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
  /** The device's push token (tests pass a fake). */
  pushTokens?: PushTokenSource;
  /** Pushes shown while open and tapped (tests pass a fake). */
  notifications?: NotificationEvents;
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
  pushTokens = defaultPushTokenSource,
  notifications = defaultNotificationEvents,
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

  const [push, setPush] = useState<PushRegistration | null>(null);

  /** Forget the session here (the server already refused it, or was told). */
  const dropSession = useCallback(
    async (reason?: string) => {
      api.setToken(null);
      setSession(null);
      setPush(null);
      setSignOutReason(reason ?? null);
      setStatus("signedOut");
      await storage.deleteItem(TOKEN_KEY).catch(() => undefined);
    },
    [api, storage],
  );

  const signOut = useCallback(
    async (reason?: string) => {
      // Tell the server, so this token (and earlier ones) is refused from now; whatever it
      // answers (offline, an older server), the token is forgotten here.
      if (statusRef.current === "signedIn") await api.signOut().catch(() => undefined);
      await dropSession(reason);
    },
    [api, dropSession],
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
        void dropSession(`You were signed out: ${problem.message}`);
      }
    });
    return () => api.setUnauthorizedHandler(null);
  }, [api, dropSession]);

  // A 403 is usually an editor's action tried by a member; but one removed from the workspace
  // gets 403 everywhere. Ask /api/me: when that is refused too, they are no longer a member.
  const checkingMembership = useRef(false);
  useEffect(() => {
    api.setForbiddenHandler(() => {
      if (statusRef.current !== "signedIn" || checkingMembership.current) return;
      checkingMembership.current = true;
      void api
        .getMe()
        .then((me) => {
          if (me.kind === "forbidden" && statusRef.current === "signedIn") {
            void dropSession(`You were signed out: ${me.message}`);
          }
        })
        .finally(() => {
          checkingMembership.current = false;
        });
    });
    return () => api.setForbiddenHandler(null);
  }, [api, dropSession]);

  // After sign-in on a phone: register the device's push token (skipped on the web).
  const token = session?.token ?? null;
  useEffect(() => {
    if (status !== "signedIn" || !token) return;
    let cancelled = false;
    void registerForPush(api, pushTokens).then((r) => {
      if (!cancelled) setPush(r);
    });
    return () => {
      cancelled = true;
    };
  }, [api, pushTokens, status, token]);

  useOpenNoticeFromPush(notifications, status === "signedIn", session?.workspace ?? null);

  /** Keeps an accepted session (the token stored for the next start) and signs in. */
  const begin = useCallback(
    async (accepted: Session): Promise<SignInResult> => {
      await storage.setItem(TOKEN_KEY, accepted.token).catch(() => undefined);
      setSession(accepted);
      setSignOutReason(null);
      setStatus("signedIn");
      return { ok: true };
    },
    [storage],
  );

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
      return begin(parsed.session);
    },
    [api, begin],
  );

  /** A token the server has just issued: no need to ask whether it accepts it. */
  const adopt = useCallback(
    async (signedIn: SignedIn): Promise<SignInResult> => {
      const parsed = sessionFromToken(signedIn.token);
      if (!parsed.ok) return parsed;
      api.setToken(parsed.session.token);
      return begin(parsed.session);
    },
    [api, begin],
  );

  const signInWithPassword = useCallback(
    async (email: string, password: string): Promise<SignInResult> => {
      const r = await api.signIn(email.trim(), password);
      return r.kind === "ok" ? adopt(r.data) : { ok: false, ...signInProblemText(r, "sign-in") };
    },
    [api, adopt],
  );

  const acceptInvitation = useCallback(
    async (code: string, password: string): Promise<SignInResult> => {
      const r = await api.acceptInvitation(code.trim(), password);
      return r.kind === "ok" ? adopt(r.data) : { ok: false, ...signInProblemText(r, "accept") };
    },
    [api, adopt],
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

  const passwordSignIn = !cognito;
  const value = useMemo<AuthContextValue>(
    () => ({ status, session, signOutReason, providers, passwordSignIn, signInWithToken, signInWithPassword, acceptInvitation, completeCognito, signOut, push }),
    [status, session, signOutReason, providers, passwordSignIn, signInWithToken, signInWithPassword, acceptInvitation, completeCognito, signOut, push],
  );

  return (
    <ApiContext.Provider value={api}>
      <AuthContext.Provider value={value}>
        <MeProvider>{children}</MeProvider>
      </AuthContext.Provider>
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
