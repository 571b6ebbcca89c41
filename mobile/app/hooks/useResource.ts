import { useCallback, useEffect, useRef, useState } from "react";

import type { ApiProblem, ApiResult } from "../services/api";

export interface Resource<T> {
  data: T | null;
  problem: ApiProblem | null;
  /** First load (nothing to show yet). */
  loading: boolean;
  /** A pull-to-refresh or a retry while data is shown. */
  refreshing: boolean;
  /** Reload; `quiet` reloads without showing a spinner (polling). */
  reload(mode?: "refresh" | "quiet"): Promise<void>;
  setData(update: (prev: T | null) => T | null): void;
}

/** Loads one API result, keeps the latest answer only, and reloads on demand. */
export function useResource<T>(load: () => Promise<ApiResult<T>>, deps: unknown[], enabled = true): Resource<T> {
  const [data, setDataState] = useState<T | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [loading, setLoading] = useState(enabled);
  const [refreshing, setRefreshing] = useState(false);
  const seq = useRef(0);
  const mounted = useRef(true);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  const reload = useCallback(async (mode?: "refresh" | "quiet") => {
    const id = ++seq.current;
    if (mode === "refresh") setRefreshing(true);
    const result = await loadRef.current();
    if (!mounted.current || id !== seq.current) return;
    if (result.kind === "ok") {
      setDataState(result.data);
      setProblem(null);
    } else {
      setProblem(result);
    }
    setLoading(false);
    setRefreshing(false);
  }, []);

  useEffect(() => {
    if (!enabled) return;
    setLoading(true);
    void reload();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [enabled, reload, ...deps]);

  const setData = useCallback((update: (prev: T | null) => T | null) => setDataState(update), []);
  return { data, problem, loading, refreshing, reload, setData };
}
