import { createNotificationEvents, type NotificationsForEvents, type OpenedNotification, SHOW_WHILE_OPEN } from "./notificationEvents";
import { noticeLinkFrom } from "./pushPayload";

const DEFAULT_ACTION = "expo.modules.notifications.actions.DEFAULT";

const response = (identifier: string, data: unknown, actionIdentifier = DEFAULT_ACTION) => ({
  actionIdentifier,
  notification: { request: { identifier, content: { data } } },
});

/** A hand-written notifications module whose listeners the test calls. */
function fakeModule(last: ReturnType<typeof response> | null = null) {
  const listeners = new Set<(r: ReturnType<typeof response>) => void>();
  const state = { handler: null as null | { handleNotification: () => Promise<unknown> }, cleared: 0, last };
  const module: NotificationsForEvents = {
    DEFAULT_ACTION_IDENTIFIER: DEFAULT_ACTION,
    setNotificationHandler: (h) => {
      state.handler = h;
    },
    addNotificationResponseReceivedListener: (l) => {
      listeners.add(l);
      return { remove: () => listeners.delete(l) };
    },
    getLastNotificationResponseAsync: async () => state.last,
    clearLastNotificationResponseAsync: async () => {
      state.cleared++;
      state.last = null;
    },
  };
  return { module, state, listeners, tap: (r: ReturnType<typeof response>) => listeners.forEach((l) => l(r)) };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

describe("createNotificationEvents", () => {
  it("shows pushes as a banner while the app is open", async () => {
    const fake = fakeModule();
    createNotificationEvents(() => fake.module).showWhileOpen();
    expect(await fake.state.handler!.handleNotification()).toEqual(SHOW_WHILE_OPEN);
    expect(SHOW_WHILE_OPEN.shouldShowBanner).toBe(true);
  });

  it("reports each tap once, the launch tap included, then clears the launch tap", async () => {
    const fake = fakeModule(response("launch", { notice_id: "n0" }));
    const opened: OpenedNotification[] = [];
    const stop = createNotificationEvents(() => fake.module).onOpen((o) => opened.push(o));
    await flush();
    fake.tap(response("launch", { notice_id: "n0" })); // the same tap, reported again
    fake.tap(response("t1", { notice_id: "n1" }));
    fake.tap(response("t2", { notice_id: "n2" }, "mark-read")); // an action button, not a tap
    expect(opened).toEqual([
      { id: "launch", data: { notice_id: "n0" } },
      { id: "t1", data: { notice_id: "n1" } },
    ]);
    expect(fake.state.cleared).toBe(1);
    stop();
    expect(fake.listeners.size).toBe(0);
  });

  it("does nothing where the module cannot load", () => {
    const events = createNotificationEvents(() => null);
    expect(() => events.showWhileOpen()).not.toThrow();
    const stop = events.onOpen(() => {
      throw new Error("never");
    });
    expect(() => stop()).not.toThrow();
  });
});

describe("noticeLinkFrom", () => {
  it("reads the API's push data, and nothing else", () => {
    expect(noticeLinkFrom({ workspace_id: "club", notice_id: "n1" })).toEqual({ noticeId: "n1", workspaceId: "club" });
    expect(noticeLinkFrom({ notice_id: "n1" })).toEqual({ noticeId: "n1", workspaceId: null });
    expect(noticeLinkFrom({ workspace_id: "club" })).toBeNull();
    expect(noticeLinkFrom({ notice_id: 7 })).toBeNull();
    expect(noticeLinkFrom(undefined)).toBeNull();
    expect(noticeLinkFrom("n1")).toBeNull();
  });
});
