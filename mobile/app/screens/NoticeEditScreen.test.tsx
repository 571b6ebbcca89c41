import { fireEvent, screen, waitFor } from "@testing-library/react-native";

import { mockRouter, mockState } from "../../test/mockRouter";
import { fakeApi, memberSession, notice, ok, renderWithApp } from "../../test/fixtures";
import { NoticeEditScreen } from "./NoticeEditScreen";

describe("NoticeEditScreen", () => {
  it("posts a new pinned notice and opens it", async () => {
    const api = fakeApi({ createNotice: jest.fn(async () => ok(notice({ notice_id: "new1" }))) });
    renderWithApp(<NoticeEditScreen />, { api });
    fireEvent.changeText(screen.getByLabelText("Title"), "  Regatta ");
    fireEvent.changeText(screen.getByLabelText("Notice text"), "Sunday at nine.");
    fireEvent.changeText(screen.getByLabelText("Show until (optional)"), "2030-05-01");
    fireEvent(screen.getByLabelText("Pin to the top of the board"), "valueChange", true);
    fireEvent.press(screen.getByRole("button", { name: "Post notice" }));
    await waitFor(() => expect(mockRouter.replace).toHaveBeenCalledWith({ pathname: "/notices/[id]", params: { id: "new1" } }));
    expect(api.createNotice).toHaveBeenCalledWith({ title: "Regatta", body: "Sunday at nine.", pinned: true, expires_at: expect.stringMatching(/^2030-05-0[12]T/) });
  });

  it("edits an existing notice", async () => {
    mockState.params = { id: "n1" };
    const api = fakeApi({ getNotice: jest.fn(async () => ok(notice({ title: "Old title" }))) });
    renderWithApp(<NoticeEditScreen />, { api });
    await waitFor(() => expect(screen.getByLabelText("Title").props.value).toBe("Old title"));
    fireEvent.changeText(screen.getByLabelText("Title"), "New title");
    fireEvent.press(screen.getByRole("button", { name: "Save changes" }));
    await waitFor(() => expect(api.updateNotice).toHaveBeenCalledWith("n1", expect.objectContaining({ title: "New title", pinned: false, expires_at: null })));
  });

  it("checks the form, and shows what the server refused", async () => {
    const api = fakeApi({ createNotice: jest.fn(async () => ({ kind: "rejected", status: 422, code: "validation_error", message: "title: too long" })) });
    renderWithApp(<NoticeEditScreen />, { api });
    fireEvent.changeText(screen.getByLabelText("Show until (optional)"), "next week");
    fireEvent.press(screen.getByRole("button", { name: "Post notice" }));
    expect(await screen.findByText("Give the notice a title.")).toBeTruthy();
    expect(screen.getByText("Write what the notice says.")).toBeTruthy();
    expect(screen.getByText(/YYYY-MM-DD/, { exact: false })).toBeTruthy();
    expect(api.createNotice).not.toHaveBeenCalled();

    fireEvent.changeText(screen.getByLabelText("Title"), "T");
    fireEvent.changeText(screen.getByLabelText("Notice text"), "B");
    fireEvent.changeText(screen.getByLabelText("Show until (optional)"), "");
    fireEvent.press(screen.getByRole("button", { name: "Post notice" }));
    expect(await screen.findByText("title: too long")).toBeTruthy();
    expect(mockRouter.replace).not.toHaveBeenCalled();
  });

  it("tells members that only editors post", () => {
    renderWithApp(<NoticeEditScreen />, { session: memberSession() });
    expect(screen.getByText(/Only editors can post/)).toBeTruthy();
    expect(screen.queryByLabelText("Title")).toBeNull();
  });
});
