import { act, render, screen, waitFor } from "@testing-library/react-native";
import { Text } from "react-native";

import { fakeApi, makeToken, ok } from "../../test/fixtures";
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
      <AppProviders api={api} storage={memoryStorage({ [TOKEN_KEY]: token })} cognito={null}>
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
      <AppProviders api={fakeApi()} storage={storage} cognito={null}>
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
      <AppProviders api={api} storage={storage} initialSession={null} cognito={null}>
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
      <AppProviders api={api} storage={storage} cognito={null}>
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
