import { act, render, screen, waitFor } from "@testing-library/react-native";
import { Text } from "react-native";

import { fakeApi, makeSession, makeToken, renderWithApp, tappableNotifications } from "../../test/fixtures";
import { mockRouter } from "../../test/mockRouter";
import { AppProviders, type AuthContextValue, useAuth } from "../context/AuthContext";
import { memoryStorage } from "../services/auth/storageTypes";

describe("useOpenNoticeFromPush (wired in AppProviders)", () => {
  it("shows pushes while open, and a tap opens the notice it is about", async () => {
    const pushes = tappableNotifications();
    renderWithApp(<Text>app</Text>, { notifications: pushes.events, session: makeSession({ "custom:workspace": "club" }) });
    expect(pushes.events.showWhileOpen).toHaveBeenCalled();
    act(() => pushes.tap({ workspace_id: "club", notice_id: "n42" }));
    await waitFor(() => expect(mockRouter.push).toHaveBeenCalledWith({ pathname: "/notices/[id]", params: { id: "n42" } }));
  });

  it("ignores pushes about another workspace's notice, and data that names no notice", async () => {
    const pushes = tappableNotifications();
    renderWithApp(<Text>app</Text>, { notifications: pushes.events, session: makeSession({ "custom:workspace": "club" }) });
    act(() => pushes.tap({ workspace_id: "other", notice_id: "n1" }));
    act(() => pushes.tap({ something: "else" }));
    act(() => pushes.tap({ workspace_id: "club", notice_id: "n2" }));
    await waitFor(() => expect(mockRouter.push).toHaveBeenCalledTimes(1));
    expect(mockRouter.push).toHaveBeenCalledWith({ pathname: "/notices/[id]", params: { id: "n2" } });
  });

  it("a tap while signed out opens the notice after sign-in", async () => {
    const pushes = tappableNotifications();
    let auth: AuthContextValue | null = null;
    function Probe() {
      auth = useAuth();
      return <Text testID="status">{auth.status}</Text>;
    }
    render(
      <AppProviders api={fakeApi()} storage={memoryStorage()} initialSession={null} cognito={null} notifications={pushes.events}>
        <Probe />
      </AppProviders>,
    );
    act(() => pushes.tap({ workspace_id: "demo", notice_id: "n7" }));
    await act(async () => undefined);
    expect(mockRouter.push).not.toHaveBeenCalled();
    await act(() => auth!.signInWithToken(makeToken()));
    await waitFor(() => expect(screen.getByTestId("status")).toHaveTextContent("signedIn"));
    await waitFor(() => expect(mockRouter.push).toHaveBeenCalledWith({ pathname: "/notices/[id]", params: { id: "n7" } }));
  });

  it("stops listening when the app goes away", () => {
    const pushes = tappableNotifications();
    const { unmount } = renderWithApp(<Text>app</Text>, { notifications: pushes.events });
    expect(pushes.listening()).toBe(1);
    unmount();
    expect(pushes.listening()).toBe(0);
  });
});
