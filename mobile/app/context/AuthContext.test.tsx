import { act, render, screen, waitFor } from "@testing-library/react-native";
import { Text } from "react-native";

import { fakeApi, makeToken, me, noNotifications, ok } from "../../test/fixtures";
import { memoryStorage, TOKEN_KEY } from "../services/auth/storageTypes";
import { AppProviders, type AuthContextValue, useAuth } from "./AuthContext";
import SignedInLayout from "../routes/(app)/_layout";

let auth: AuthContextValue;
function Probe() {
  auth = useAuth();
  return <Text testID="status">{auth.status}</Text>;
}

describe("AuthContext", () => {
  it("restores a stored token and gives it to the client", async () => {
    const token = makeToken();
    const api = fakeApi();
    render(
      <AppProviders notifications={noNotifications} api={api} storage={memoryStorage({ [TOKEN_KEY]: token })} cognito={null}>
        <Probe />
      </AppProviders>,
    );
    await waitFor(() => expect(screen.getByTestId("status")).toHaveTextContent("signedIn"));
    expect(api.setToken).toHaveBeenLastCalledWith(token);
    expect(auth.session?.workspace).toBe("demo");
  });

  it("drops a stored token that has expired", async () => {
    const storage = memoryStorage({ [TOKEN_KEY]: makeToken({ exp: 5 }) });
    render(
      <AppProviders notifications={noNotifications} api={fakeApi()} storage={storage} cognito={null}>
        <Probe />
      </AppProviders>,
    );
    await waitFor(() => expect(screen.getByTestId("status")).toHaveTextContent("signedOut"));
    expect(await storage.getItem(TOKEN_KEY)).toBeNull();
    expect(auth.signOutReason).toMatch(/expired/);
  });

  it("signs in only when the server accepts the token, and stores it", async () => {
    const storage = memoryStorage();
    const api = fakeApi({ listNotices: jest.fn().mockResolvedValueOnce({ kind: "unauthorized", message: "bad signature" }).mockResolvedValue(ok([])) });
    render(
      <AppProviders notifications={noNotifications} api={api} storage={storage} initialSession={null} cognito={null}>
        <Probe />
      </AppProviders>,
    );
    let r = await act(() => auth.signInWithToken(makeToken()));
    expect(r).toEqual({ ok: false, reason: expect.stringMatching(/did not accept.*bad signature/) });
    expect(screen.getByTestId("status")).toHaveTextContent("signedOut");
    r = await act(() => auth.signInWithToken(makeToken()));
    expect(r).toEqual({ ok: true });
    expect(screen.getByTestId("status")).toHaveTextContent("signedIn");
    expect(await storage.getItem(TOKEN_KEY)).toBeTruthy();
  });

  it("goes back to sign-in on a 401 from any request", async () => {
    const api = fakeApi();
    const storage = memoryStorage({ [TOKEN_KEY]: makeToken() });
    render(
      <AppProviders notifications={noNotifications} api={api} storage={storage} cognito={null}>
        <Probe />
        <SignedInLayout />
      </AppProviders>,
    );
    await waitFor(() => expect(screen.getByTestId("status")).toHaveTextContent("signedIn"));
    const handler = api.setUnauthorizedHandler.mock.calls.at(-1)![0];
    await act(async () => handler({ kind: "unauthorized", message: "token expired" }));
    expect(screen.getByTestId("status")).toHaveTextContent("signedOut");
    expect(auth.signOutReason).toMatch(/token expired/);
    expect(screen.getByTestId("redirect")).toHaveTextContent("Redirect to /sign-in");
    expect(await storage.getItem(TOKEN_KEY)).toBeNull();
  });
});

describe("AuthContext: accounts, removal and pushes", () => {
  it("a 403 followed by a refused /api/me signs the removed member out with the server's words", async () => {
    const api = fakeApi({ getMe: jest.fn().mockResolvedValueOnce(ok(me())).mockResolvedValue({ kind: "forbidden", message: "you were removed from this workspace" }) });
    const storage = memoryStorage({ [TOKEN_KEY]: makeToken() });
    render(
      <AppProviders notifications={noNotifications} api={api} storage={storage} cognito={null}>
        <Probe />
      </AppProviders>,
    );
    await waitFor(() => expect(screen.getByTestId("status")).toHaveTextContent("signedIn"));
    const handler = api.setForbiddenHandler.mock.calls.at(-1)![0] as (p: unknown) => void;
    await act(async () => handler({ kind: "forbidden", message: "you were removed from this workspace" }));
    await waitFor(() => expect(screen.getByTestId("status")).toHaveTextContent("signedOut"));
    expect(auth.signOutReason).toBe("You were signed out: you were removed from this workspace");
    expect(await storage.getItem(TOKEN_KEY)).toBeNull();
  });

  it("a 403 while still a member (an editor's action) keeps the session", async () => {
    const api = fakeApi();
    render(
      <AppProviders notifications={noNotifications} api={api} storage={memoryStorage({ [TOKEN_KEY]: makeToken() })} cognito={null}>
        <Probe />
      </AppProviders>,
    );
    await waitFor(() => expect(screen.getByTestId("status")).toHaveTextContent("signedIn"));
    const handler = api.setForbiddenHandler.mock.calls.at(-1)![0] as (p: unknown) => void;
    await act(async () => handler({ kind: "forbidden", message: "editors only" }));
    expect(screen.getByTestId("status")).toHaveTextContent("signedIn");
  });

  it("registers the device's push token after sign-in on a phone", async () => {
    const api = fakeApi({ registerDevice: jest.fn(async () => ok({ device_id: "d1", platform: "ios", expo_push_token: "ExponentPushToken[x]", created_at: null })) });
    const pushTokens = { platform: "ios" as const, getExpoPushToken: jest.fn(async () => ({ kind: "token" as const, token: "ExponentPushToken[x]" })) };
    render(
      <AppProviders notifications={noNotifications} api={api} storage={memoryStorage()} initialSession={null} cognito={null} pushTokens={pushTokens}>
        <Probe />
      </AppProviders>,
    );
    expect(api.registerDevice).not.toHaveBeenCalled();
    await act(() => auth.signInWithPassword("ed@club.test", "correct horse battery"));
    await waitFor(() => expect(api.registerDevice).toHaveBeenCalledWith("ExponentPushToken[x]", "ios"));
    await waitFor(() => expect(auth.push).toEqual({ kind: "registered", token: "ExponentPushToken[x]", deviceId: "d1" }));
  });

  it("the web skips push registration; the 401 handler does not call the sign-out route", async () => {
    const api = fakeApi();
    const web = { platform: "web" as const, getExpoPushToken: jest.fn() };
    render(
      <AppProviders notifications={noNotifications} api={api} storage={memoryStorage({ [TOKEN_KEY]: makeToken() })} cognito={null} pushTokens={web}>
        <Probe />
      </AppProviders>,
    );
    await waitFor(() => expect(auth.push?.kind).toBe("skipped"));
    expect(web.getExpoPushToken).not.toHaveBeenCalled();
    expect(api.registerDevice).not.toHaveBeenCalled();
    const handler = api.setUnauthorizedHandler.mock.calls.at(-1)![0] as (p: unknown) => void;
    await act(async () => handler({ kind: "unauthorized", message: "this token was signed out" }));
    expect(screen.getByTestId("status")).toHaveTextContent("signedOut");
    expect(api.signOut).not.toHaveBeenCalled();
  });
});
