import type { Notice } from "../services/api/types";

export function isExpired(notice: Notice, now: Date = new Date()): boolean {
  if (notice.expired) return true;
  if (!notice.expires_at) return false;
  const t = Date.parse(notice.expires_at);
  return Number.isFinite(t) && t <= now.getTime();
}

/** The board's order: expired notices hidden, pinned first, then newest first. */
export function boardOrder(notices: Notice[], now: Date = new Date()): Notice[] {
  return notices
    .filter((n) => !isExpired(n, now))
    .sort((a, b) => {
      if (a.pinned !== b.pinned) return a.pinned ? -1 : 1;
      return Date.parse(b.created_at) - Date.parse(a.created_at);
    });
}
