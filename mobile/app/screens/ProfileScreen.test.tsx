import { act, fireEvent, screen, waitFor } from "@testing-library/react-native";

import { fakeApi, me, memberSession, ok, renderWithApp } from "../../test/fixtures";
import type { Device } from "../services/api";
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

const device = (over: Partial<Device> = {}): Device => ({ device_id: "d1", platform: "ios", expo_push_token: null, created_at: "2026-06-01T10:00:00Z", ...over });
const phone = { platform: "android" as const, getExpoPushToken: async () => ({ kind: "token" as const, token: "ExponentPushToken[mine]" }) };

describe("ProfileScreen: devices", () => {
  it("lists the member's devices with platform and date, marking the one this app registered", async () => {
    const api = fakeApi({
      registerDevice: jest.fn(async () => ok(device({ device_id: "d2", platform: "android" }))),
      listDevices: jest.fn(async () => ok([device(), device({ device_id: "d2", platform: "android", created_at: "2026-07-02T10:00:00Z" })])),
    });
    renderWithApp(<ProfileScreen />, { api, pushTokens: phone });
    await waitFor(() => expect(screen.getByTestId("device-d2")).toHaveTextContent(/Android \(this device\)/));
    expect(screen.getByTestId("device-d1")).toHaveTextContent(/iPhone or iPad/);
    expect(screen.getByTestId("device-d1")).not.toHaveTextContent(/this device/);
    expect(screen.getByTestId("device-d1")).toHaveTextContent(/Registered .*2026/);
    expect(api.registerDevice).toHaveBeenCalledWith("ExponentPushToken[mine]", "android");
    expect(screen.getByRole("button", { name: "Remove this device" })).toBeTruthy();
    expect(screen.getByRole("button", { name: /^Remove iPhone or iPad device registered .*2026$/ })).toBeTruthy();
  });

  it("marks this device by its token where the server lists tokens", async () => {
    const api = fakeApi({ registerDevice: jest.fn(async () => ok(null)), listDevices: jest.fn(async () => ok([device({ expo_push_token: "ExponentPushToken[mine]" }), device({ device_id: "d2", expo_push_token: "ExponentPushToken[other]" })])) });
    renderWithApp(<ProfileScreen />, { api, pushTokens: phone });
    await waitFor(() => expect(screen.getByTestId("device-d1")).toHaveTextContent(/this device/));
    expect(screen.getByTestId("device-d2")).not.toHaveTextContent(/this device/);
  });

  it("removes a device, and says why when the server refuses", async () => {
    const api = fakeApi({
      listDevices: jest.fn(async () => ok([device(), device({ device_id: "d2", platform: "android" })])),
      removeDevice: jest.fn().mockResolvedValueOnce(ok(null)).mockResolvedValueOnce({ kind: "server", message: "the table is busy" }),
    });
    renderWithApp(<ProfileScreen />, { api });
    await screen.findByTestId("device-d1");
    // The removal answers after the press: let it settle inside act.
    await act(async () => fireEvent.press(screen.getAllByRole("button", { name: /^Remove iPhone or iPad device/ })[0]));
    await waitFor(() => expect(screen.queryByTestId("device-d1")).toBeNull());
    expect(api.removeDevice).toHaveBeenCalledWith("d1");
    fireEvent.press(screen.getByRole("button", { name: /^Remove Android device/ }));
    expect(await screen.findByText("the table is busy")).toBeTruthy();
    expect(screen.getByTestId("device-d2")).toBeTruthy();
  });

  it("a device already gone is dropped by reloading the list", async () => {
    const api = fakeApi({
      listDevices: jest.fn().mockResolvedValueOnce(ok([device()])).mockResolvedValue(ok([])),
      removeDevice: jest.fn(async () => ({ kind: "not-found", code: "not_found", message: "no such device" })),
    });
    renderWithApp(<ProfileScreen />, { api });
    await screen.findByTestId("device-d1");
    await act(async () => fireEvent.press(screen.getByRole("button", { name: /^Remove iPhone or iPad device/ })));
    await waitFor(() => expect(screen.queryByTestId("device-d1")).toBeNull());
    expect(api.listDevices).toHaveBeenCalledTimes(2);
    expect(screen.getByText(/No phone is registered yet/)).toBeTruthy();
    expect(screen.queryByText("no such device")).toBeNull();
  });

  it("says so when the server keeps no devices, and shows other problems with a retry", async () => {
    const api = fakeApi({ listDevices: jest.fn(async () => ({ kind: "not-found", code: "not_found", message: "no route" })) });
    renderWithApp(<ProfileScreen />, { api });
    expect(await screen.findByText("This server does not send push notifications.")).toBeTruthy();

    const offline = fakeApi({ listDevices: jest.fn().mockResolvedValueOnce({ kind: "offline", message: "You are offline." }).mockResolvedValue(ok([device()])) });
    screen.unmount();
    renderWithApp(<ProfileScreen />, { api: offline });
    expect(await screen.findByTestId("devices-problem")).toHaveTextContent(/You are offline/);
    fireEvent.press(screen.getAllByRole("button", { name: "Try again" }).at(-1)!);
    expect(await screen.findByTestId("device-d1")).toBeTruthy();
  });
});
