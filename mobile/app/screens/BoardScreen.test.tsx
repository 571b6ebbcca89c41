import { fireEvent, screen, waitFor, within } from "@testing-library/react-native";

import { mockRouter } from "../../test/mockRouter";
import { fakeApi, memberSession, notice, ok, renderWithApp } from "../../test/fixtures";
import { BoardScreen } from "./BoardScreen";

describe("BoardScreen", () => {
  it("shows pinned first, newest next, hides expired, and opens a notice", async () => {
    const api = fakeApi({
      listNotices: jest.fn(async () =>
        ok([
          notice({ notice_id: "a", title: "Older", created_at: "2026-01-01T00:00:00Z" }),
          notice({ notice_id: "b", title: "Newer", created_at: "2026-05-01T00:00:00Z" }),
          notice({ notice_id: "c", title: "Pinned one", pinned: true, created_at: "2025-01-01T00:00:00Z" }),
          notice({ notice_id: "d", title: "Expired", expired: true }),
        ]),
      ),
    });
    renderWithApp(<BoardScreen />, { api });
    await screen.findByText("Pinned one");
    const list = screen.getByLabelText("Notices");
    const titles = within(list).getAllByRole("button").map((b) => b.props.accessibilityLabel);
    expect(titles).toEqual(["Pinned: Pinned one", "Newer", "Older"]);
    expect(screen.queryByText("Expired")).toBeNull();
    fireEvent.press(screen.getByRole("button", { name: "Newer" }));
    expect(mockRouter.push).toHaveBeenCalledWith({ pathname: "/notices/[id]", params: { id: "b" } });
    fireEvent.press(screen.getByRole("button", { name: "Post a notice" }));
    expect(mockRouter.push).toHaveBeenCalledWith("/notices/new");
  });

  it("shows an empty state, and no post button to members", async () => {
    renderWithApp(<BoardScreen />, { session: memberSession() });
    expect(await screen.findByText("No notices yet")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Post a notice" })).toBeNull();
  });

  it("shows the problem and retries; refresh reloads", async () => {
    const listNotices = jest
      .fn()
      .mockResolvedValueOnce({ kind: "offline", temporary: true, message: "Cannot reach the server." })
      .mockResolvedValue(ok([notice({ title: "Back again" })]));
    renderWithApp(<BoardScreen />, { api: fakeApi({ listNotices }) });
    expect(await screen.findByText("You are offline")).toBeTruthy();
    fireEvent.press(screen.getByRole("button", { name: "Try again" }));
    expect(await screen.findByText("Back again")).toBeTruthy();
    expect(screen.queryByText("You are offline")).toBeNull();
    fireEvent.press(screen.getByRole("button", { name: "Refresh the board" }));
    await waitFor(() => expect(listNotices).toHaveBeenCalledTimes(3));
  });
});

describe("BoardScreen: unread notices", () => {
  it("marks unread notices as new, then marks them seen after showing them", async () => {
    const { me: meOf } = jest.requireActual("../../test/fixtures") as typeof import("../../test/fixtures");
    const api = fakeApi({
      listNotices: jest.fn(async () => ok([notice({ notice_id: "a", title: "Fresh", unread: true }), notice({ notice_id: "b", title: "Old", unread: false, created_at: "2025-01-01T00:00:00Z" })])),
      getMe: jest.fn(async () => ok(meOf({ unread_notices: 1 }))),
    });
    renderWithApp(<BoardScreen />, { api, session: memberSession() });
    expect(await screen.findByRole("button", { name: "New: Fresh" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "Old" })).toBeTruthy();
    await waitFor(() => expect(api.markNoticesSeen).toHaveBeenCalledTimes(1));
    // the marker stays while this list is shown
    expect(screen.getByText("New")).toBeTruthy();
  });

  it("does not call the seen route when nothing is unread (or the server does not track it)", async () => {
    const api = fakeApi({ listNotices: jest.fn(async () => ok([notice()])) });
    renderWithApp(<BoardScreen />, { api });
    await screen.findByText("Summer party");
    await waitFor(() => expect(api.getMe).toHaveBeenCalled());
    expect(api.markNoticesSeen).not.toHaveBeenCalled();
  });
});
