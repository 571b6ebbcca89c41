import { fireEvent, screen, waitFor } from "@testing-library/react-native";

import { mockRouter, mockState } from "../../test/mockRouter";
import { fakeApi, memberSession, notice, ok, renderWithApp } from "../../test/fixtures";
import { NoticeDetailScreen } from "./NoticeDetailScreen";

describe("NoticeDetailScreen", () => {
  it("shows the notice and lets an editor edit or delete it", async () => {
    mockState.params = { id: "n7" };
    const api = fakeApi({ getNotice: jest.fn(async () => ok(notice({ notice_id: "n7", title: "Regatta", body: "Sunday 9:00", pinned: true }))) });
    renderWithApp(<NoticeDetailScreen />, { api });
    expect(await screen.findByRole("header", { name: "Regatta" })).toBeTruthy();
    expect(screen.getByText("Sunday 9:00")).toBeTruthy();
    expect(screen.getByText("Pinned")).toBeTruthy();
    expect(api.getNotice).toHaveBeenCalledWith("n7");
    fireEvent.press(screen.getByRole("button", { name: "Edit this notice" }));
    expect(mockRouter.push).toHaveBeenCalledWith({ pathname: "/notices/[id]/edit", params: { id: "n7" } });
    fireEvent.press(screen.getByRole("button", { name: "Delete this notice" }));
    fireEvent.press(screen.getByRole("button", { name: "Confirm delete" }));
    await waitFor(() => expect(mockRouter.navigate).toHaveBeenCalledWith("/board"));
    expect(api.deleteNotice).toHaveBeenCalledWith("n7");
  });

  it("hides editor actions from members", async () => {
    mockState.params = { id: "n1" };
    renderWithApp(<NoticeDetailScreen />, { session: memberSession() });
    await screen.findByText("Saturday at the boathouse.");
    expect(screen.queryByRole("button", { name: "Edit this notice" })).toBeNull();
  });

  it("says when the notice is gone", async () => {
    mockState.params = { id: "zzz" };
    const api = fakeApi({ getNotice: jest.fn(async () => ({ kind: "not-found", code: "not_found", message: "no notice zzz" })) });
    renderWithApp(<NoticeDetailScreen />, { api });
    expect(await screen.findByText("no notice zzz")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Try again" })).toBeNull();
  });

  it("shows a failed delete", async () => {
    mockState.params = { id: "n1" };
    const api = fakeApi({ deleteNotice: jest.fn(async () => ({ kind: "forbidden", message: "editors only" })) });
    renderWithApp(<NoticeDetailScreen />, { api });
    fireEvent.press(await screen.findByRole("button", { name: "Delete this notice" }));
    fireEvent.press(screen.getByRole("button", { name: "Confirm delete" }));
    expect(await screen.findByText("editors only")).toBeTruthy();
    expect(mockRouter.navigate).not.toHaveBeenCalled();
  });
});
