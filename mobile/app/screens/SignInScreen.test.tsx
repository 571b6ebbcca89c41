import { fireEvent, screen, waitFor } from "@testing-library/react-native";

import { fakeApi, makeToken, renderWithApp } from "../../test/fixtures";
import { SignInScreen } from "./SignInScreen";

describe("SignInScreen", () => {
  it("signs in with a dev token and goes to the board", async () => {
    const api = fakeApi();
    renderWithApp(<SignInScreen />, { api, session: null });
    fireEvent.changeText(screen.getByLabelText("Dev token"), makeToken());
    fireEvent.press(screen.getByRole("button", { name: "Sign in with token" }));
    await waitFor(() => expect(screen.getByTestId("redirect")).toHaveTextContent("Redirect to /board"));
    expect(api.listNotices).toHaveBeenCalled();
  });

  it("says why a token is refused", async () => {
    const api = fakeApi({ listNotices: jest.fn(async () => ({ kind: "unauthorized", message: "invalid signature" })) });
    renderWithApp(<SignInScreen />, { api, session: null });
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
    fireEvent.changeText(screen.getByLabelText("Dev token"), makeToken());
    fireEvent.press(screen.getByRole("button", { name: "Sign in with token" }));
    expect(await screen.findByText("Cannot reach the server.")).toBeTruthy();
  });
});
