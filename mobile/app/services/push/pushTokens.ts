/**
 * The native push token source: on a physical phone, with the person's permission, the Expo push
 * token that `registerForPush` sends to the API. The native modules come in through
 * `PushTokenDeps`, so every decision here is unit-tested with fakes; `defaultPushTokenSource`
 * wires the real ones. The web has its own source (`pushTokens.web.ts`).
 */
import Constants from "expo-constants";
import * as Device from "expo-device";
import { Platform } from "react-native";

import { loadNotifications } from "./nativeNotifications";
import type { PushTokenSource } from "./types";

export const NOT_A_DEVICE = "Push notifications need a real phone; this is a simulator or an emulator.";
export const NO_PUSH_MODULE = "This app cannot receive push notifications here (Expo Go on Android has none: use a development build).";
export const NO_PROJECT_ID =
  "This build has no EAS project id (expo.extra.eas.projectId in app.json, set by `eas init`), so it cannot get an Expo push token.";
export const NOT_ALLOWED = "Notifications are not allowed for this app, so new notices are not pushed to this phone. Allow them in the phone's settings.";

/** Android 8+ shows a notification only through a channel; Expo's push service sends to this one. */
export const ANDROID_CHANNEL_ID = "default";

export interface PermissionAnswer {
  granted: boolean;
  canAskAgain: boolean;
}

/** The part of `expo-notifications` that getting a token needs. */
export interface NotificationsForTokens {
  getPermissionsAsync(): Promise<PermissionAnswer>;
  requestPermissionsAsync(): Promise<PermissionAnswer>;
  getExpoPushTokenAsync(options: { projectId: string }): Promise<{ data: string }>;
  setNotificationChannelAsync(id: string, channel: { name: string; importance: number }): Promise<unknown>;
  AndroidImportance: { HIGH: number };
}

export interface PushTokenDeps {
  platform: "ios" | "android";
  /** False in a simulator or an emulator, which cannot receive pushes. */
  isDevice: boolean;
  /** The EAS project the Expo push token belongs to. */
  projectId: string | null;
  /** The notifications module, or null where it cannot load. */
  notifications(): NotificationsForTokens | null;
}

export function createPushTokenSource(deps: PushTokenDeps): PushTokenSource {
  return {
    platform: deps.platform,
    async getExpoPushToken() {
      if (!deps.isDevice) return { kind: "unavailable", reason: NOT_A_DEVICE };
      const notifications = deps.notifications();
      if (!notifications) return { kind: "unavailable", reason: NO_PUSH_MODULE };
      // Checked before asking: a permission prompt that can lead nowhere only annoys.
      const projectId = deps.projectId;
      if (!projectId) return { kind: "unavailable", reason: NO_PROJECT_ID };
      if (deps.platform === "android") {
        // Before the permission request: Android 13+ prompts only once a channel exists.
        await notifications.setNotificationChannelAsync(ANDROID_CHANNEL_ID, { name: "New notices", importance: notifications.AndroidImportance.HIGH });
      }
      let permission = await notifications.getPermissionsAsync();
      if (!permission.granted) permission = await notifications.requestPermissionsAsync();
      if (!permission.granted) return { kind: "unavailable", reason: NOT_ALLOWED };
      const token = await notifications.getExpoPushTokenAsync({ projectId });
      return { kind: "token", token: token.data };
    },
  };
}

/** `extra.eas.projectId` in app.json, or the one EAS Build sets. */
export function easProjectId(constants: Pick<typeof Constants, "expoConfig" | "easConfig"> = Constants): string | null {
  const fromConfig: unknown = constants.expoConfig?.extra?.eas?.projectId;
  const id = typeof fromConfig === "string" && fromConfig ? fromConfig : constants.easConfig?.projectId;
  return typeof id === "string" && id ? id : null;
}

export const defaultPushTokenSource: PushTokenSource = createPushTokenSource({
  platform: Platform.OS === "android" ? "android" : "ios",
  isDevice: Device.isDevice,
  projectId: easProjectId(),
  notifications: loadNotifications,
});
