/**
 * What the app does with the notifications it receives: show one that arrives while the app is
 * open (the OS hides those by default), and tell the app which one the person tapped, the one
 * that launched it included. Behind `NotificationEvents` so the app is tested with a fake; the
 * module comes in through `createNotificationEvents`, so this is tested with a fake module too.
 * The web has its own (`notificationEvents.web.ts`).
 */
import { loadNotifications } from "./nativeNotifications";

export interface OpenedNotification {
  /** The notification's identifier: the same tap may be reported twice (the launch one). */
  id: string;
  /** The push's `data`, as the server sent it. */
  data: unknown;
}

export interface NotificationEvents {
  /** Show notifications that arrive while the app is open as a banner. */
  showWhileOpen(): void;
  /** Calls `listener` once for each notification the person opens; returns the unsubscribe. */
  onOpen(listener: (opened: OpenedNotification) => void): () => void;
}

interface ResponseLike {
  actionIdentifier: string;
  notification: { request: { identifier: string; content: { data?: unknown } } };
}

type Behavior = { shouldShowBanner: boolean; shouldShowList: boolean; shouldPlaySound: boolean; shouldSetBadge: boolean };

/** The part of `expo-notifications` used here. */
export interface NotificationsForEvents {
  setNotificationHandler(handler: { handleNotification: () => Promise<Behavior> } | null): void;
  addNotificationResponseReceivedListener(listener: (response: ResponseLike) => void): { remove(): void };
  getLastNotificationResponseAsync(): Promise<ResponseLike | null>;
  clearLastNotificationResponseAsync(): Promise<void>;
  DEFAULT_ACTION_IDENTIFIER: string;
}

export const SHOW_WHILE_OPEN: Behavior = { shouldShowBanner: true, shouldShowList: true, shouldPlaySound: true, shouldSetBadge: false };

export function createNotificationEvents(load: () => NotificationsForEvents | null): NotificationEvents {
  const seen = new Set<string>();
  return {
    showWhileOpen() {
      load()?.setNotificationHandler({ handleNotification: async () => SHOW_WHILE_OPEN });
    },
    onOpen(listener) {
      const notifications = load();
      if (!notifications) return () => undefined;
      let active = true;
      const deliver = (response: ResponseLike) => {
        // Only the tap on the notification itself; a custom action button means something else.
        if (!active || response.actionIdentifier !== notifications.DEFAULT_ACTION_IDENTIFIER) return;
        const { identifier, content } = response.notification.request;
        if (seen.has(identifier)) return;
        seen.add(identifier);
        listener({ id: identifier, data: content.data });
      };
      const subscription = notifications.addNotificationResponseReceivedListener(deliver);
      // A tap that launched the app came before this listener; cleared once handled, so the next
      // start does not open that notice again.
      notifications
        .getLastNotificationResponseAsync()
        .then((last) => {
          if (!last) return;
          deliver(last);
          return notifications.clearLastNotificationResponseAsync();
        })
        .catch(() => undefined);
      return () => {
        active = false;
        subscription.remove();
      };
    },
  };
}

export const defaultNotificationEvents: NotificationEvents = createNotificationEvents(loadNotifications);
