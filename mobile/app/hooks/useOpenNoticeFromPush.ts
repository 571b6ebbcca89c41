import { router } from "expo-router";
import { useEffect, useState } from "react";

import type { NotificationEvents } from "../services/push/notificationEvents";
import { type NoticeLink, noticeLinkFrom } from "../services/push/pushPayload";

/**
 * Shows pushes while the app is open, and opens the notice a tapped push is about. A tap while
 * signed out (or before the stored session is restored) waits for the sign-in. A push about
 * another workspace's notice opens nothing: this session could not read it.
 */
export function useOpenNoticeFromPush(events: NotificationEvents, signedIn: boolean, workspace: string | null) {
  const [pending, setPending] = useState<NoticeLink | null>(null);

  useEffect(() => {
    events.showWhileOpen();
    return events.onOpen((opened) => {
      const link = noticeLinkFrom(opened.data);
      if (link) setPending(link);
    });
  }, [events]);

  useEffect(() => {
    if (!pending || !signedIn) return;
    setPending(null);
    if (pending.workspaceId && workspace && pending.workspaceId !== workspace) return;
    router.push({ pathname: "/notices/[id]", params: { id: pending.noticeId } });
  }, [pending, signedIn, workspace]);
}
