/**
 * `expo-notifications`, loaded on first use rather than imported: in Expo Go on Android, importing
 * it throws (remote pushes were removed from Expo Go there), and the app must still start there.
 * Only the native sources use it; the web ones never reach this file.
 */
import type * as ExpoNotifications from "expo-notifications";

export type NotificationsModule = typeof ExpoNotifications;

let loaded: NotificationsModule | null | undefined;

/** The module, or null where it cannot load. */
export function loadNotifications(): NotificationsModule | null {
  if (loaded === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      loaded = require("expo-notifications") as NotificationsModule;
    } catch {
      loaded = null;
    }
  }
  return loaded;
}
