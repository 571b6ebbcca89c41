import { act, fireEvent, screen, waitFor } from "@testing-library/react-native";

import { mockRouter } from "../../test/mockRouter";
import { fakeApi, me, memberSession, ok, renderWithApp } from "../../test/fixtures";
import { AppShell, unreadLabel } from "./AppShell";
import { useMe } from "../context/MeContext";
import { Text } from "react-native";

function SeenButton() {
  const { markNoticesSeen } = useMe();
  return <Text onPress={() => void markNoticesSeen()}>mark seen</Text>;
}

describe("AppShell", () => {
  it("shows the unread count on the Board tab, and clears it once seen", async () => {
    const api = fakeApi({ getMe: jest.fn(async () => ok(me({ unread_notices: 3 }))) });
    renderWithApp(
      <AppShell>
        <SeenButton />
      </AppShell>,
      { api },
    );
    expect(await screen.findByRole("link", { name: "Board, 3 unread" })).toBeTruthy();
    expect(screen.getByTestId("unread-badge")).toHaveTextContent("3");
    await act(async () => fireEvent.press(screen.getByText("mark seen")));
    await waitFor(() => expect(screen.queryByTestId("unread-badge")).toBeNull());
    expect(screen.getByRole("link", { name: "Board" })).toBeTruthy();
  });

  it("shows Members to editors only, and Profile to all", async () => {
    const { unmount } = renderWithApp(<AppShell>{null}</AppShell>);
    expect(await screen.findByRole("link", { name: "Members" })).toBeTruthy();
    fireEvent.press(screen.getByRole("link", { name: "Profile" }));
    expect(mockRouter.navigate).toHaveBeenCalledWith("/profile");
    unmount();
    renderWithApp(<AppShell>{null}</AppShell>, { session: memberSession(), api: fakeApi({ getMe: jest.fn(async () => ok(me({ role: "member" }))) }) });
    await screen.findByRole("link", { name: "Profile" });
    expect(screen.queryByRole("link", { name: "Members" })).toBeNull();
  });

  it("caps the badge", () => {
    expect(unreadLabel(4)).toBe("4");
    expect(unreadLabel(12)).toBe("9+");
  });
});
