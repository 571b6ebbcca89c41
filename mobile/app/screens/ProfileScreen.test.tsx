import { fireEvent, screen, waitFor } from "@testing-library/react-native";

import { fakeApi, me, memberSession, ok, renderWithApp } from "../../test/fixtures";
import { TOKEN_KEY } from "../services/auth/storageTypes";
import { ProfileScreen } from "./ProfileScreen";

describe("ProfileScreen", () => {
  it("shows who, the workspace and the role, and mutes pushes", async () => {
    const api = fakeApi({ getMe: jest.fn(async () => ok(me({ role: "member", email: "sam@club.test", workspace_id: "club", push_muted: false }))) });
    renderWithApp(<ProfileScreen />, { api, session: memberSession() });
    await waitFor(() => expect(screen.getByTestId("profile-who")).toHaveTextContent("sam@club.test"));
    expect(screen.getByTestId("profile-workspace")).toHaveTextContent("club");
    expect(screen.getByTestId("profile-role")).toHaveTextContent("Member");
    fireEvent(screen.getByLabelText("Mute push notifications"), "valueChange", true);
    await waitFor(() => expect(api.setPushMuted).toHaveBeenCalledWith(true));
    expect(await screen.findByText("New notices are not pushed to your phone.")).toBeTruthy();
  });

  it("says so when the server has no pushes", async () => {
    const api = fakeApi({ getMe: jest.fn(async () => ok(me({ push_muted: false }))), setPushMuted: jest.fn(async () => ({ kind: "not-found", code: "not_found", message: "no route" })) });
    renderWithApp(<ProfileScreen />, { api });
    await screen.findByText("New notices are pushed to your phone.");
    fireEvent(screen.getByLabelText("Mute push notifications"), "valueChange", true);
    expect(await screen.findByText("This server does not send push notifications yet.")).toBeTruthy();
  });

  it("signs out at the server and forgets the token", async () => {
    const api = fakeApi();
    const { storage } = renderWithApp(<ProfileScreen />, { api });
    await storage.setItem(TOKEN_KEY, "x.y.z");
    fireEvent.press(screen.getByRole("button", { name: "Sign out of this device" }));
    await waitFor(() => expect(api.signOut).toHaveBeenCalled());
    await waitFor(async () => expect(await storage.getItem(TOKEN_KEY)).toBeNull());
    expect(api.setToken).toHaveBeenLastCalledWith(null);
  });
});
