import type { PushPlatform } from "../api/types";

/** What asking the device for its Expo push token gave. */
export type PushTokenResult =
  | { kind: "token"; token: string }
  /** No token here: the web, no permission, or no push module in this build; `reason` says which. */
  | { kind: "unavailable"; reason: string };

/** The device side of pushes, behind an interface so the registration is tested with a fake. */
export interface PushTokenSource {
  platform: PushPlatform;
  getExpoPushToken(): Promise<PushTokenResult>;
}
