/**
 * The `data` the API puts in each push about a notice: `{workspace_id, notice_id}`.
 * Anything else (another sender, an older format) opens nothing.
 */
export interface NoticeLink {
  noticeId: string;
  workspaceId: string | null;
}

export function noticeLinkFrom(data: unknown): NoticeLink | null {
  if (!data || typeof data !== "object") return null;
  const { notice_id: noticeId, workspace_id: workspaceId } = data as Record<string, unknown>;
  if (typeof noticeId !== "string" || !noticeId) return null;
  return { noticeId, workspaceId: typeof workspaceId === "string" && workspaceId ? workspaceId : null };
}
