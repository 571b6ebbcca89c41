import { fireEvent, screen, waitFor, within } from "@testing-library/react-native";

import { fakeApi, invitation, member, memberSession, ok, renderWithApp } from "../../test/fixtures";
import { MembersScreen } from "./MembersScreen";

const ME = member({ user_id: "dev-editor", role: "editor", email: "ed@club.test" });
const SAM = member({ user_id: "u2", email: "sam@club.test" });

describe("MembersScreen", () => {
  it("sends members to the board", () => {
    renderWithApp(<MembersScreen />, { session: memberSession() });
    expect(screen.getByTestId("redirect")).toHaveTextContent("Redirect to /board");
  });

  it("lists members and pending invitations; changes a role and removes after confirming", async () => {
    const listMembers = jest.fn().mockResolvedValueOnce(ok([ME, SAM])).mockResolvedValueOnce(ok([ME, { ...SAM, role: "editor" }])).mockResolvedValue(ok([ME]));
    const api = fakeApi({ listMembers, listInvitations: jest.fn(async () => ok([invitation()])) });
    renderWithApp(<MembersScreen />, { api });
    const sam = await screen.findByTestId("member-u2");
    expect(within(screen.getByTestId("member-dev-editor")).getByText("You")).toBeTruthy();
    expect(api.listInvitations).toHaveBeenCalledWith("pending");
    expect(await screen.findByText("kim@club.test")).toBeTruthy();

    fireEvent.press(within(sam).getByRole("button", { name: "Make sam@club.test an editor" }));
    await waitFor(() => expect(api.changeRole).toHaveBeenCalledWith("u2", "editor"));
    expect(await within(screen.getByTestId("member-u2")).findByText("Editor")).toBeTruthy();

    fireEvent.press(within(screen.getByTestId("member-u2")).getByRole("button", { name: "Remove sam@club.test" }));
    expect(api.removeMember).not.toHaveBeenCalled();
    fireEvent.press(screen.getByRole("button", { name: "Confirm removing sam@club.test" }));
    await waitFor(() => expect(api.removeMember).toHaveBeenCalledWith("u2"));
    await waitFor(() => expect(screen.queryByTestId("member-u2")).toBeNull());
  });

  it("shows the last-editor refusal (409) and a 403 plainly", async () => {
    const api = fakeApi({
      listMembers: jest.fn(async () => ok([ME])),
      changeRole: jest.fn(async () => ({ kind: "rejected", status: 409, code: "conflict", message: "a workspace keeps at least one editor: make another member an editor first" })),
      removeMember: jest.fn(async () => ({ kind: "forbidden", message: "only editors can remove members" })),
    });
    renderWithApp(<MembersScreen />, { api });
    fireEvent.press(await screen.findByRole("button", { name: "Make ed@club.test a member" }));
    expect(await screen.findByText("a workspace keeps at least one editor: make another member an editor first")).toBeTruthy();
    fireEvent.press(screen.getByRole("button", { name: "Remove ed@club.test" }));
    fireEvent.press(screen.getByRole("button", { name: "Confirm removing ed@club.test" }));
    expect(await screen.findByText("Not allowed: only editors can remove members")).toBeTruthy();
  });

  it("invites by e-mail with a role and shows the link to share; revokes a pending invitation", async () => {
    const listInvitations = jest.fn().mockResolvedValueOnce(ok([])).mockResolvedValueOnce(ok([invitation({ email: "kim@club.test", role: "editor" })])).mockResolvedValue(ok([]));
    const api = fakeApi({ listInvitations, invite: jest.fn(async () => ok({ ...invitation({ email: "kim@club.test", role: "editor" }), code: "CODE_abcdefghijklmnop" })) });
    renderWithApp(<MembersScreen />, { api });
    expect(await screen.findByText("No pending invitations.")).toBeTruthy();
    fireEvent.changeText(screen.getByLabelText("E-mail address"), " kim@club.test ");
    fireEvent.press(screen.getByRole("button", { name: "Invite as editor" }));
    fireEvent.press(screen.getByRole("button", { name: "Send invitation" }));
    await waitFor(() => expect(api.invite).toHaveBeenCalledWith("kim@club.test", "editor"));
    expect(await screen.findByText("Invited kim@club.test as editor.")).toBeTruthy();
    expect(screen.getByTestId("invitation-link")).toHaveTextContent(/accept-invite\?code=CODE_abcdefghijklmnop/);
    expect(screen.getByTestId("invitation-code")).toHaveTextContent("CODE_abcdefghijklmnop");
    fireEvent.press(await screen.findByRole("button", { name: "Revoke the invitation of kim@club.test" }));
    await waitFor(() => expect(api.revokeInvitation).toHaveBeenCalledWith("i1"));
    expect(await screen.findByText("No pending invitations.")).toBeTruthy();
  });

  it("shows why an invitation is refused", async () => {
    const api = fakeApi({ invite: jest.fn(async () => ({ kind: "rejected", status: 409, code: "conflict", message: "sam@club.test is already a member" })) });
    renderWithApp(<MembersScreen />, { api });
    fireEvent.changeText(screen.getByLabelText("E-mail address"), "sam@club.test");
    fireEvent.press(screen.getByRole("button", { name: "Send invitation" }));
    expect(await screen.findByText("sam@club.test is already a member")).toBeTruthy();
    expect(screen.queryByTestId("invitation-created")).toBeNull();
  });
});
