/**
 * The native push token source. `expo-notifications` is not in this app's lockfile yet (only what
 * `npm ci` installs may be used), so there is no way to ask the OS for an Expo push token and this
 * answers `unavailable`. When the package is added: request permission, then
 * `Notifications.getExpoPushTokenAsync({projectId})`, returning `{kind: "token", token: data}`.
 * The registration (`registerForPush`) already sends whatever token this gives to the API.
 */
import { Platform } from "react-native";

import type { PushTokenSource } from "./types";

export const NO_PUSH_MODULE = "This build has no push notifications module (expo-notifications).";

export const defaultPushTokenSource: PushTokenSource = {
  platform: Platform.OS === "android" ? "android" : "ios",
  getExpoPushToken: async () => ({ kind: "unavailable", reason: NO_PUSH_MODULE }),
};
