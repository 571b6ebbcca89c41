/**
 * The signed-in caller as the server sees them (`GET /api/me`): role, workspace, the unread
 * notices count (the Board badge) and whether pushes are muted. Loaded when signed in, reloaded
 * by the shell on navigation and every minute, and cleared on sign-out.
 */
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useRef, useState } from "react";

import type { ApiProblem, ApiResult, Me } from "../services/api";
import { useApi, useAuth } from "./AuthContext";

export const ME_POLL_MS = 60_000;

export interface MeContextValue {
  me: Me | null;
  problem: ApiProblem | null;
  /** Reload quietly (no spinner). */
  reload(): Promise<void>;
  /** `POST /api/notices/seen`; the badge goes to 0 when the server agrees. */
  markNoticesSeen(): Promise<ApiResult<null>>;
  setPushMuted(muted: boolean): Promise<ApiResult<{ muted: boolean }>>;
}

const MeContext = createContext<MeContextValue | null>(null);

export function MeProvider({ children }: { children: ReactNode }) {
  const api = useApi();
  const { status, session } = useAuth();
  const [me, setMe] = useState<Me | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const token = status === "signedIn" ? (session?.token ?? null) : null;
  const tokenRef = useRef(token);
  tokenRef.current = token;
  const seq = useRef(0);

  const reload = useCallback(async () => {
    const forToken = tokenRef.current;
    if (!forToken) return;
    const id = ++seq.current;
    const r = await api.getMe();
    if (id !== seq.current || tokenRef.current !== forToken) return; // a newer answer, or signed out meanwhile
    if (r.kind === "ok") {
      setMe(r.data);
      setProblem(null);
    } else {
      setProblem(r);
    }
  }, [api]);

  useEffect(() => {
    setMe(null);
    setProblem(null);
    if (!token) return;
    void reload();
    const timer = setInterval(() => void reload(), ME_POLL_MS);
    return () => clearInterval(timer);
  }, [token, reload]);

  const markNoticesSeen = useCallback(async () => {
    seq.current++; // an answer already under way would bring back the old count
    const r = await api.markNoticesSeen();
    if (r.kind === "ok") setMe((m) => (m && m.unread_notices !== null ? { ...m, unread_notices: 0 } : m));
    return r;
  }, [api]);

  const setPushMuted = useCallback(
    async (muted: boolean) => {
      const r = await api.setPushMuted(muted);
      if (r.kind === "ok") setMe((m) => (m ? { ...m, push_muted: r.data.muted } : m));
      return r;
    },
    [api],
  );

  const value = useMemo(() => ({ me, problem, reload, markNoticesSeen, setPushMuted }), [me, problem, reload, markNoticesSeen, setPushMuted]);
  return <MeContext.Provider value={value}>{children}</MeContext.Provider>;
}

export function useMe(): MeContextValue {
  const ctx = useContext(MeContext);
  if (!ctx) throw new Error("useMe must be used inside <AppProviders>");
  return ctx;
}
