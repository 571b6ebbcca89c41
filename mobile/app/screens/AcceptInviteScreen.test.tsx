import { fireEvent, screen, waitFor } from "@testing-library/react-native";

import { mockRouter, mockState } from "../../test/mockRouter";
import { fakeApi, renderWithApp, signedIn } from "../../test/fixtures";
import { AcceptInviteScreen } from "./AcceptInviteScreen";

const CODE = "r2eiEvBN4_XaPWECUZ4ev8Yb0e8G6E42ZBNNQ3349mQ";

describe("AcceptInviteScreen", () => {
  it("takes the code from the link, checks the password twice, signs in and goes to the board", async () => {
    mockState.params = { code: CODE };
    const api = fakeApi({ acceptInvitation: jest.fn(async () => ({ kind: "ok", data: signedIn({ role: "member" }, { sub: "sam", "cognito:groups": [] }) })) });
    const { storage } = renderWithApp(<AcceptInviteScreen />, { api, session: null });
    expect(screen.queryByLabelText("Invitation code")).toBeNull();
    const join = () => screen.getByRole("button", { name: "Join and sign in" });
    fireEvent.changeText(screen.getByLabelText("New password"), "short");
    expect(screen.getByText("Too short: at least 12 characters (5 now).")).toBeTruthy();
    expect(join()).toBeDisabled();
    fireEvent.changeText(screen.getByLabelText("New password"), "correct horse battery");
    fireEvent.changeText(screen.getByLabelText("Confirm password"), "correct horse batter");
    expect(screen.getByText("The passwords do not match.")).toBeTruthy();
    expect(join()).toBeDisabled();
    fireEvent.changeText(screen.getByLabelText("Confirm password"), "correct horse battery");
    fireEvent.press(join());
    await waitFor(() => expect(screen.getByTestId("redirect")).toHaveTextContent("Redirect to /board"));
    expect(api.acceptInvitation).toHaveBeenCalledWith(CODE, "correct horse battery");
    expect(await storage.getItem("noticebot.idToken")).toMatch(/\./);
  });

  it("asks for the code when there is none, and says plainly when it is used up", async () => {
    const api = fakeApi({ acceptInvitation: jest.fn(async () => ({ kind: "not-found", code: "not_found", message: "no open invitation has this code" })) });
    renderWithApp(<AcceptInviteScreen />, { api, session: null });
    fireEvent.changeText(screen.getByLabelText("Invitation code"), "bad code");
    expect(screen.getByText(/not an invitation code/)).toBeTruthy();
    fireEvent.changeText(screen.getByLabelText("Invitation code"), CODE);
    fireEvent.changeText(screen.getByLabelText("New password"), "correct horse battery");
    fireEvent.changeText(screen.getByLabelText("Confirm password"), "correct horse battery");
    fireEvent.press(screen.getByRole("button", { name: "Join and sign in" }));
    expect(await screen.findByText(/This invitation code is not valid any more/)).toBeTruthy();
    expect(screen.queryByTestId("redirect")).toBeNull();
    fireEvent.press(screen.getByRole("button", { name: "Cancel" }));
    expect(mockRouter.replace).toHaveBeenCalledWith("/sign-in");
  });

  it("shows the server's reason for a revoked invitation (409) and a refused password (422)", async () => {
    mockState.params = { code: CODE };
    const acceptInvitation = jest
      .fn()
      .mockResolvedValueOnce({ kind: "rejected", status: 409, code: "conflict", message: "this invitation was revoked; ask an editor for a new one" })
      .mockResolvedValueOnce({ kind: "rejected", status: 422, code: "unprocessable", message: "password: must not be your e-mail address" });
    renderWithApp(<AcceptInviteScreen />, { api: fakeApi({ acceptInvitation }), session: null });
    fireEvent.changeText(screen.getByLabelText("New password"), "sam@club.test1");
    fireEvent.changeText(screen.getByLabelText("Confirm password"), "sam@club.test1");
    fireEvent.press(screen.getByRole("button", { name: "Join and sign in" }));
    expect(await screen.findByText("this invitation was revoked; ask an editor for a new one")).toBeTruthy();
    fireEvent.press(screen.getByRole("button", { name: "Join and sign in" }));
    expect(await screen.findByText("password: must not be your e-mail address")).toBeTruthy();
  });
});
