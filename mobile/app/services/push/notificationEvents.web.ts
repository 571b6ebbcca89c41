/** The web gets no pushes (see `pushTokens.web.ts`), so there is nothing to show or open. */
import type { NotificationEvents } from "./notificationEvents";

export type { NotificationEvents, OpenedNotification } from "./notificationEvents";

export const defaultNotificationEvents: NotificationEvents = {
  showWhileOpen: () => undefined,
  onOpen: () => () => undefined,
};
