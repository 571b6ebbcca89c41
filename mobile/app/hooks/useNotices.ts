import { useCallback, useMemo, useState } from "react";

import { useApi } from "../context/AuthContext";
import type { ApiResult, Notice, NoticeInput, NoticePatch } from "../services/api";
import { boardOrder } from "../utils/board";
import { useResource } from "./useResource";

/** The board: expired hidden, pinned first, newest next. */
export function useBoard() {
  const api = useApi();
  const resource = useResource(() => api.listNotices(), [api]);
  const notices = useMemo(() => (resource.data ? boardOrder(resource.data) : null), [resource.data]);
  return { ...resource, notices };
}

export function useNotice(id: string | undefined) {
  const api = useApi();
  return useResource<Notice>(
    () => (id ? api.getNotice(id) : Promise.resolve({ kind: "not-found", code: "not_found", message: "No notice given." })),
    [api, id],
    !!id,
  );
}

export function useNoticeActions() {
  const api = useApi();
  const [busy, setBusy] = useState(false);
  const run = useCallback(async <T,>(call: () => Promise<ApiResult<T>>) => {
    setBusy(true);
    try {
      return await call();
    } finally {
      setBusy(false);
    }
  }, []);
  return {
    busy,
    create: (input: NoticeInput) => run(() => api.createNotice(input)),
    update: (id: string, patch: NoticePatch) => run(() => api.updateNotice(id, patch)),
    remove: (id: string) => run(() => api.deleteNotice(id)),
  };
}
