import { useCallback, useEffect, useState } from "react";

import { useApi } from "../context/AuthContext";
import type { ApiResult, DocumentInfo, UploadFile, UploadResult } from "../services/api";
import { useResource } from "./useResource";

export const POLL_MS = 1500;

export function isSettled(doc: Pick<DocumentInfo, "status">): boolean {
  return doc.status === "indexed" || doc.status === "failed";
}

/** The workspace's documents; while any is queued or processing the list is polled. */
export function useDocuments(pollMs: number = POLL_MS) {
  const api = useApi();
  const resource = useResource(() => api.listDocuments(), [api]);
  const [uploading, setUploading] = useState(false);
  const { data, reload, setData } = resource;
  const busy = !!data?.some((d) => !isSettled(d));

  useEffect(() => {
    if (!busy) return;
    const timer = setTimeout(() => void reload("quiet"), pollMs);
    return () => clearTimeout(timer);
  }, [busy, data, reload, pollMs]);

  const upload = useCallback(
    async (file: UploadFile, title: string): Promise<ApiResult<UploadResult>> => {
      setUploading(true);
      const metadata = title.trim() ? { title: title.trim() } : {};
      const result = await api.uploadDocument(file, metadata);
      setUploading(false);
      if (result.kind === "ok") {
        const now = new Date().toISOString();
        // Show it at once as queued; polling fills in the rest.
        setData((prev) => {
          const rest = (prev ?? []).filter((d) => d.document_id !== result.data.document_id);
          const existing = (prev ?? []).find((d) => d.document_id === result.data.document_id);
          const row: DocumentInfo = existing ?? {
            document_id: result.data.document_id,
            filename: file.name,
            title: title.trim() || file.name,
            content_type: file.mimeType || "",
            size_bytes: file.size ?? 0,
            status: result.data.status,
            error: null,
            chunk_count: 0,
            page_count: null,
            uploaded_by: "",
            created_at: now,
            updated_at: now,
          };
          return [row, ...rest];
        });
        void reload("quiet");
      }
      return result;
    },
    [api, reload, setData],
  );

  const remove = useCallback(
    async (id: string) => {
      const result = await api.deleteDocument(id);
      if (result.kind === "ok") setData((prev) => (prev ?? []).filter((d) => d.document_id !== id));
      return result;
    },
    [api, setData],
  );

  return { ...resource, documents: data, uploading, upload, remove, polling: busy };
}
