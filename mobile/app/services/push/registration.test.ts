import { registerForPush } from "./registration";
import type { PushTokenSource } from "./types";

const fakeSource = (over: Partial<PushTokenSource> = {}): PushTokenSource => ({
  platform: "ios",
  getExpoPushToken: jest.fn(async () => ({ kind: "token" as const, token: "ExponentPushToken[abc]" })),
  ...over,
});

describe("registerForPush", () => {
  it("registers the device's Expo token with the API", async () => {
    const registerDevice = jest.fn(async () => ({ kind: "ok" as const, data: { device_id: "d1", platform: "ios", expo_push_token: "ExponentPushToken[abc]", created_at: null } }));
    expect(await registerForPush({ registerDevice }, fakeSource())).toEqual({ kind: "registered", token: "ExponentPushToken[abc]", deviceId: "d1" });
    expect(registerDevice).toHaveBeenCalledWith("ExponentPushToken[abc]", "ios");
  });

  it("skips the web, a device without a token, a malformed token, and a throwing source", async () => {
    const registerDevice = jest.fn();
    const web = fakeSource({ platform: "web" });
    expect((await registerForPush({ registerDevice }, web)).kind).toBe("skipped");
    expect(web.getExpoPushToken).not.toHaveBeenCalled();
    expect(await registerForPush({ registerDevice }, fakeSource({ getExpoPushToken: async () => ({ kind: "unavailable", reason: "no permission" }) }))).toEqual({ kind: "skipped", reason: "no permission" });
    expect((await registerForPush({ registerDevice }, fakeSource({ getExpoPushToken: async () => ({ kind: "token", token: "fcm:xyz" }) }))).kind).toBe("skipped");
    expect(await registerForPush({ registerDevice }, fakeSource({ getExpoPushToken: async () => Promise.reject(new Error("denied")) }))).toEqual({ kind: "skipped", reason: "Could not get a push token: denied" });
    expect(registerDevice).not.toHaveBeenCalled();
  });

  it("reports the API's problem", async () => {
    const registerDevice = jest.fn(async () => ({ kind: "not-found" as const, code: "not_found", message: "no route" }));
    expect(await registerForPush({ registerDevice }, fakeSource({ platform: "android" }))).toEqual({ kind: "failed", problem: { kind: "not-found", code: "not_found", message: "no route" } });
    expect(registerDevice).toHaveBeenCalledWith("ExponentPushToken[abc]", "android");
  });
});
