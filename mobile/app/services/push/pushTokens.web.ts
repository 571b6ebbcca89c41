/** The web has no Expo push token: registration is skipped there. */
import type { PushTokenSource } from "./types";

export const NO_PUSH_MODULE = "Push notifications are not sent to web browsers.";

export const defaultPushTokenSource: PushTokenSource = {
  platform: "web",
  getExpoPushToken: async () => ({ kind: "unavailable", reason: NO_PUSH_MODULE }),
};
