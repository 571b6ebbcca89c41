import { fireEvent, render, screen } from "@testing-library/react-native";

import { mockRouter, mockState } from "../../test/mockRouter";
import { fakeApi, makeToken, noNotifications } from "../../test/fixtures";
import { AppProviders } from "../context/AuthContext";
import { PKCE_KEY } from "../services/auth/cognito";
import { memoryStorage, TOKEN_KEY } from "../services/auth/storageTypes";
import { AuthCallbackScreen } from "./AuthCallbackScreen";

const cognito = { domain: "club.auth.eu-west-1.amazoncognito.com", clientId: "c1", scopes: ["openid"] };

function renderCallback(fetchImpl: jest.Mock, storage = memoryStorage({ [PKCE_KEY]: JSON.stringify({ verifier: "v", state: "s1", redirectUri: "http://app/auth/callback" }) })) {
  render(
    <AppProviders notifications={noNotifications} api={fakeApi()} storage={storage} initialSession={null} cognito={cognito} fetchImpl={fetchImpl}>
      <AuthCallbackScreen />
    </AppProviders>,
  );
  return storage;
}

describe("AuthCallbackScreen (Cognito hosted UI redirect)", () => {
  it("trades the code for an ID token and signs in", async () => {
    mockState.params = { code: "abc", state: "s1" };
    const idToken = makeToken({ sub: "cognito-user", "cognito:username": "ana" });
    const fetchImpl = jest.fn(async (_url: string) => ({ ok: true, status: 200, json: async () => ({ id_token: idToken }) }));
    const storage = renderCallback(fetchImpl);
    expect(await screen.findByTestId("redirect")).toHaveTextContent("Redirect to /board");
    expect(fetchImpl.mock.calls[0][0]).toBe("https://club.auth.eu-west-1.amazoncognito.com/oauth2/token");
    expect(await storage.getItem(TOKEN_KEY)).toBe(idToken);
    expect(await storage.getItem(PKCE_KEY)).toBeNull();
  });

  it("shows the hosted UI's error and goes back to sign-in", async () => {
    mockState.params = { error: "access_denied", error_description: "User cancelled" };
    const fetchImpl = jest.fn();
    renderCallback(fetchImpl);
    expect(await screen.findByText("User cancelled")).toBeTruthy();
    expect(fetchImpl).not.toHaveBeenCalled();
    fireEvent.press(screen.getByRole("button", { name: "Back to sign in" }));
    expect(mockRouter.replace).toHaveBeenCalledWith("/sign-in");
  });
});
