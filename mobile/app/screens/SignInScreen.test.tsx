import { fireEvent, screen, waitFor } from "@testing-library/react-native";

import { mockState } from "../../test/mockRouter";
import { fakeApi, makeToken, memberSession, renderWithApp, signedIn } from "../../test/fixtures";
import { SignInScreen } from "./SignInScreen";

describe("SignInScreen", () => {
  it("signs in with a dev token and goes to the board", async () => {
    const api = fakeApi();
    renderWithApp(<SignInScreen />, { api, session: null });
    fireEvent.press(screen.getByRole("button", { name: "Developer: sign in with a token" }));
    fireEvent.changeText(screen.getByLabelText("Dev token"), makeToken());
    fireEvent.press(screen.getByRole("button", { name: "Sign in with token" }));
    await waitFor(() => expect(screen.getByTestId("redirect")).toHaveTextContent("Redirect to /board"));
    expect(api.listNotices).toHaveBeenCalled();
  });

  it("says why a token is refused", async () => {
    const api = fakeApi({ listNotices: jest.fn(async () => ({ kind: "unauthorized", message: "invalid signature" })) });
    renderWithApp(<SignInScreen />, { api, session: null });
    fireEvent.press(screen.getByRole("button", { name: "Developer: sign in with a token" }));
    fireEvent.changeText(screen.getByLabelText("Dev token"), "nonsense");
    fireEvent.press(screen.getByRole("button", { name: "Sign in with token" }));
    expect(await screen.findByText(/not a valid token/)).toBeTruthy();
    expect(api.listNotices).not.toHaveBeenCalled();

    fireEvent.changeText(screen.getByLabelText("Dev token"), makeToken());
    fireEvent.press(screen.getByRole("button", { name: "Sign in with token" }));
    expect(await screen.findByText(/did not accept this token: invalid signature/)).toBeTruthy();
    expect(screen.queryByTestId("redirect")).toBeNull();
  });

  it("reports an unreachable server", async () => {
    const api = fakeApi({ listNotices: jest.fn(async () => ({ kind: "offline", temporary: true, message: "Cannot reach the server." })) });
    renderWithApp(<SignInScreen />, { api, session: null });
    fireEvent.press(screen.getByRole("button", { name: "Developer: sign in with a token" }));
    fireEvent.changeText(screen.getByLabelText("Dev token"), makeToken());
    fireEvent.press(screen.getByRole("button", { name: "Sign in with token" }));
    expect(await screen.findByText("Cannot reach the server.")).toBeTruthy();
  });

  it("signs in with e-mail and password, the main way in locally", async () => {
    const api = fakeApi({ signIn: jest.fn(async () => ({ kind: "ok", data: signedIn({ role: "member" }, { sub: "sam", "cognito:groups": [] }) })) });
    const { storage } = renderWithApp(<SignInScreen />, { api, session: null });
    expect(screen.queryByLabelText("Dev token")).toBeNull();
    const button = screen.getByRole("button", { name: "Sign in" });
    expect(button).toBeDisabled();
    fireEvent.changeText(screen.getByLabelText("E-mail"), " sam@club.test ");
    fireEvent.changeText(screen.getByLabelText("Password"), "correct horse battery");
    fireEvent.press(screen.getByRole("button", { name: "Sign in" }));
    await waitFor(() => expect(screen.getByTestId("redirect")).toHaveTextContent("Redirect to /board"));
    expect(api.signIn).toHaveBeenCalledWith("sam@club.test", "correct horse battery");
    expect(await storage.getItem("noticebot.idToken")).toMatch(/\./);
  });

  it("says plainly when the password is wrong (401) and how long to wait (429)", async () => {
    const signIn = jest
      .fn()
      .mockResolvedValueOnce({ kind: "unauthorized", message: "the e-mail address or the password is wrong" })
      .mockResolvedValueOnce({ kind: "rejected", status: 429, code: "too_many_requests", message: "too many", retryAfterSeconds: 30 })
      .mockResolvedValueOnce({ kind: "rejected", status: 429, code: "too_many_requests", message: "too many", retryAfterSeconds: 120 });
    const api = fakeApi({ signIn });
    renderWithApp(<SignInScreen />, { api, session: null });
    fireEvent.changeText(screen.getByLabelText("E-mail"), "sam@club.test");
    fireEvent.changeText(screen.getByLabelText("Password"), "wrong password");
    fireEvent.press(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByText("The e-mail address or the password is wrong.")).toBeTruthy();
    fireEvent.press(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByText("Too many failed attempts. Wait 30 seconds and try again.")).toBeTruthy();
    fireEvent.press(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByText("Too many failed attempts. Wait 2 minutes and try again.")).toBeTruthy();
    expect(screen.queryByTestId("redirect")).toBeNull();
  });

  it("sends ?invite=CODE on to accepting the invitation", () => {
    mockState.params = { invite: "abcdefghijklmnop1234" };
    renderWithApp(<SignInScreen />, { session: null });
    expect(screen.getByTestId("redirect")).toHaveTextContent('Redirect to {"pathname":"/accept-invite","params":{"code":"abcdefghijklmnop1234"}}');
  });

  it("goes to the board when already signed in", () => {
    renderWithApp(<SignInScreen />, { session: memberSession() });
    expect(screen.getByTestId("redirect")).toHaveTextContent("Redirect to /board");
  });

  it("with Cognito, tells invited users their first password is the temporary one from the e-mail", async () => {
    const cognito = { domain: "club.auth.eu-west-1.amazoncognito.com", clientId: "c1", scopes: ["openid"] };
    renderWithApp(<SignInScreen />, { session: null, cognito });
    expect(screen.getByRole("button", { name: "Sign in with your organisation account" })).toBeTruthy();
    expect(screen.getByTestId("cognito-first-time")).toHaveTextContent(
      "First time? Use the temporary password from your invitation e-mail; you'll be asked to choose your own.",
    );
    expect(screen.queryByTestId("password-input")).toBeNull();
  });

  it("local accounts get no word about temporary passwords", () => {
    renderWithApp(<SignInScreen />, { session: null });
    expect(screen.getByTestId("password-input")).toBeTruthy();
    expect(screen.queryByTestId("cognito-first-time")).toBeNull();
    expect(screen.queryByText(/temporary password/)).toBeNull();
  });
});
