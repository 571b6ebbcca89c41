/**
 * After sign-in on a phone: ask the device for its Expo push token and register it with
 * `POST /api/devices`, so the API can push new notices to it. Skipped on the web.
 */
import type { ApiClient, ApiProblem } from "../api";
import type { PushTokenSource } from "./types";

export type PushRegistration =
  | { kind: "registered"; token: string; deviceId: string | null }
  | { kind: "skipped"; reason: string }
  | { kind: "failed"; problem: ApiProblem };

const EXPO_TOKEN = /^Expo(nent)?PushToken\[.+\]$/;

export async function registerForPush(api: Pick<ApiClient, "registerDevice">, source: PushTokenSource): Promise<PushRegistration> {
  if (source.platform === "web") return { kind: "skipped", reason: "Push notifications are not sent to web browsers." };
  let got;
  try {
    got = await source.getExpoPushToken();
  } catch (e) {
    return { kind: "skipped", reason: `Could not get a push token: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (got.kind !== "token") return { kind: "skipped", reason: got.reason };
  if (!EXPO_TOKEN.test(got.token)) return { kind: "skipped", reason: "The device gave a push token that is not an Expo push token." };
  const r = await api.registerDevice(got.token, source.platform);
  if (r.kind !== "ok") return { kind: "failed", problem: r };
  return { kind: "registered", token: got.token, deviceId: r.data?.device_id ?? null };
}
