import { ANDROID_CHANNEL_ID, createPushTokenSource, easProjectId, NO_PROJECT_ID, NO_PUSH_MODULE, NOT_A_DEVICE, NOT_ALLOWED, type NotificationsForTokens, type PermissionAnswer, type PushTokenDeps } from "./pushTokens";

/** A hand-written notifications module: records calls, answers the permissions it was given. */
function fakeNotifications(existing: PermissionAnswer, requested: PermissionAnswer = existing) {
  const calls: string[] = [];
  const module: NotificationsForTokens & { channels: Record<string, { name: string; importance: number }>; tokenOptions: { projectId: string }[] } = {
    channels: {},
    tokenOptions: [],
    AndroidImportance: { HIGH: 6 },
    async getPermissionsAsync() {
      calls.push("get");
      return existing;
    },
    async requestPermissionsAsync() {
      calls.push("request");
      return requested;
    },
    async getExpoPushTokenAsync(options) {
      calls.push("token");
      module.tokenOptions.push(options);
      return { data: "ExponentPushToken[phone]" };
    },
    async setNotificationChannelAsync(id, channel) {
      calls.push("channel");
      module.channels[id] = channel;
      return null;
    },
  };
  return { module, calls };
}

const GRANTED = { granted: true, canAskAgain: true };
const UNDECIDED = { granted: false, canAskAgain: true };
const DENIED = { granted: false, canAskAgain: false };

function source(over: Partial<PushTokenDeps>, notifications: NotificationsForTokens | null) {
  return createPushTokenSource({ platform: "ios", isDevice: true, projectId: "proj-1", notifications: () => notifications, ...over });
}

describe("createPushTokenSource", () => {
  it("on a phone that already allows notifications, gets the token for the EAS project without asking", async () => {
    const { module, calls } = fakeNotifications(GRANTED);
    const tokens = source({}, module);
    expect(tokens.platform).toBe("ios");
    expect(await tokens.getExpoPushToken()).toEqual({ kind: "token", token: "ExponentPushToken[phone]" });
    expect(calls).toEqual(["get", "token"]);
    expect(module.tokenOptions).toEqual([{ projectId: "proj-1" }]);
    expect(module.channels).toEqual({});
  });

  it("asks for permission when not yet allowed, and gets the token once allowed", async () => {
    const { module, calls } = fakeNotifications(UNDECIDED, GRANTED);
    expect(await source({}, module).getExpoPushToken()).toEqual({ kind: "token", token: "ExponentPushToken[phone]" });
    expect(calls).toEqual(["get", "request", "token"]);
  });

  it("on Android, creates the default channel before asking (Android 13 prompts only then)", async () => {
    const { module, calls } = fakeNotifications(UNDECIDED, GRANTED);
    const tokens = source({ platform: "android" }, module);
    expect(tokens.platform).toBe("android");
    expect((await tokens.getExpoPushToken()).kind).toBe("token");
    expect(calls).toEqual(["channel", "get", "request", "token"]);
    expect(module.channels[ANDROID_CHANNEL_ID]).toEqual({ name: "New notices", importance: 6 });
  });

  it("a refused permission gives no token and says how to allow it", async () => {
    for (const requested of [UNDECIDED, DENIED]) {
      const { module, calls } = fakeNotifications(UNDECIDED, requested);
      expect(await source({}, module).getExpoPushToken()).toEqual({ kind: "unavailable", reason: NOT_ALLOWED });
      expect(calls).not.toContain("token");
    }
    expect(NOT_ALLOWED).toMatch(/settings/);
  });

  it("a simulator, a missing module or a missing project id give no token and ask nothing", async () => {
    const { module, calls } = fakeNotifications(UNDECIDED, GRANTED);
    expect(await source({ isDevice: false }, module).getExpoPushToken()).toEqual({ kind: "unavailable", reason: NOT_A_DEVICE });
    expect(await source({}, null).getExpoPushToken()).toEqual({ kind: "unavailable", reason: NO_PUSH_MODULE });
    expect(await source({ projectId: null }, module).getExpoPushToken()).toEqual({ kind: "unavailable", reason: NO_PROJECT_ID });
    expect(calls).toEqual([]);
    expect(NOT_A_DEVICE).toMatch(/simulator/);
    expect(NO_PROJECT_ID).toMatch(/extra\.eas\.projectId/);
  });
});

describe("easProjectId", () => {
  it("reads app.json's extra.eas.projectId, then EAS Build's, else none", () => {
    expect(easProjectId({ expoConfig: { extra: { eas: { projectId: "from-app-json" } } } as never, easConfig: { projectId: "from-eas" } })).toBe("from-app-json");
    expect(easProjectId({ expoConfig: { extra: {} } as never, easConfig: { projectId: "from-eas" } })).toBe("from-eas");
    expect(easProjectId({ expoConfig: null, easConfig: null })).toBeNull();
    expect(easProjectId({ expoConfig: { extra: { eas: { projectId: "" } } } as never, easConfig: {} })).toBeNull();
  });
});
