/**
 * "Groups run themselves", end to end in Debian's Chromium against the real local API
 * (global-setup.ts): the first editor is invited with the CLI and accepts via the API, signs in
 * with a password in the app, invites a member on the Members screen, the member accepts the
 * link in the app; the editor posts, the member's unread badge rises and the fake Expo push
 * server records a push to the member's phone; the member's Profile lists that phone; the
 * editor removes the member, whose next request is refused and who lands back on sign-in.
 */
import { type Browser, type BrowserContext, expect, type Page, test } from "@playwright/test";
import { execFileSync } from "node:child_process";
import path from "node:path";

const SHOTS = path.join(__dirname, "screenshots");
const EDITOR = "editor@club.test";
const EDITOR_PASSWORD = "river boats at dawn";
const MEMBER = "member@club.test";
const MEMBER_PASSWORD = "kingfisher seven oars";
const DEVICE_TOKEN = "ExponentPushToken[e2e-member-phone]";

const api = () => process.env.E2E_API_URL!;
const base = () => process.env.E2E_BASE_URL!;

async function shot(page: Page, name: string) {
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: false });
}

let editorContext: BrowserContext;
let memberContext: BrowserContext;
let editor: Page;
let member: Page;
const pageErrors: string[] = [];

async function newPage(browser: Browser): Promise<[BrowserContext, Page]> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.on("pageerror", (e) => pageErrors.push(e.message));
  return [context, page];
}

test.describe.serial("groups run themselves", () => {
  test.afterAll(async () => {
    await editorContext?.close();
    await memberContext?.close();
  });

  test("an editor signs in with a password, invites a member, the member accepts in the app", async ({ browser }) => {
    // The workspace's first editor: an operator's invitation (CLI), accepted through the API.
    const out = execFileSync(process.env.E2E_NOTICEBOT_BIN!, ["--data", process.env.E2E_DATA_DIR!, "invite", EDITOR, "--workspace", "club", "--editor", "--json"], { encoding: "utf8" });
    const { code } = JSON.parse(out.trim().split("\n").pop()!) as { code: string };
    const accepted = await fetch(`${api()}/api/invitations/accept`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ code, password: EDITOR_PASSWORD }) });
    expect(accepted.status).toBe(200);

    [editorContext, editor] = await newPage(browser);
    await editor.goto(base() + "/sign-in");
    await editor.getByLabel("E-mail").fill(EDITOR);
    await editor.getByLabel("Password").fill("not the password");
    await editor.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect(editor.getByText("The e-mail address or the password is wrong.")).toBeVisible();
    await editor.getByLabel("Password").fill(EDITOR_PASSWORD);
    await editor.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect(editor).toHaveURL(/\/board$/);
    await expect(editor.getByText("No notices yet")).toBeVisible();

    // Invite a member on the Members screen; the link to share is shown once.
    await editor.getByRole("link", { name: "Members" }).click();
    await expect(editor).toHaveURL(/\/members$/);
    await expect(editor.getByTestId("members-screen").getByText(EDITOR)).toBeVisible();
    await editor.getByLabel("E-mail address").fill(MEMBER);
    await editor.getByRole("button", { name: "Send invitation" }).click();
    await expect(editor.getByText(`Invited ${MEMBER} as member.`)).toBeVisible();
    const link = (await editor.getByTestId("invitation-link").textContent())!.trim();
    expect(link).toMatch(/\/\?invite=[A-Za-z0-9_-]{16,}$/);
    await expect(editor.getByRole("button", { name: `Revoke the invitation of ${MEMBER}` })).toBeVisible();
    await shot(editor, "20-members-invited");

    // The member opens the link, chooses a password, and is signed in.
    [memberContext, member] = await newPage(browser);
    await member.goto(link);
    await expect(member).toHaveURL(/\/accept-invite\?code=/);
    await member.getByLabel("New password").fill("short");
    await expect(member.getByText(/Too short: at least 12 characters/)).toBeVisible();
    await member.getByLabel("New password").fill(MEMBER_PASSWORD);
    await member.getByLabel("Confirm password").fill(MEMBER_PASSWORD);
    await shot(member, "21-accept-invitation");
    await member.getByRole("button", { name: "Join and sign in" }).click();
    await expect(member).toHaveURL(/\/board$/);
    await expect(member.getByRole("link", { name: "Members" })).toHaveCount(0);
    await member.getByRole("link", { name: "Profile" }).click();
    await expect(member.getByTestId("profile-who")).toHaveText(MEMBER);
    await expect(member.getByTestId("profile-workspace")).toHaveText("club");
    await expect(member.getByTestId("profile-role")).toHaveText("Member");
    await shot(member, "22-member-profile");

    // The editor sees them as a member now, and no pending invitation.
    await editor.reload();
    await expect(editor.getByText(MEMBER)).toBeVisible();
    await expect(editor.getByText("No pending invitations.")).toBeVisible();
  });

  test("the member's unread badge rises when the editor posts, a push goes to their device, and opening the board marks it seen", async () => {
    // Web has no Expo push token: register the member's "phone" through the API with their token.
    const memberToken = await member.evaluate(() => window.localStorage.getItem("noticebot.idToken"));
    const registered = await fetch(`${api()}/api/devices`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${memberToken}` },
      body: JSON.stringify({ expo_push_token: DEVICE_TOKEN, platform: "ios" }),
    });
    expect(registered.status).toBe(201);

    await editor.getByRole("link", { name: /^Board/ }).click();
    await editor.getByRole("button", { name: "Post a notice" }).click();
    await editor.getByLabel("Title").fill("Boat trailer moved");
    await editor.getByLabel("Notice text").fill("The boat trailer now stands behind the boathouse.");
    await editor.getByRole("button", { name: "Post notice" }).click();
    await expect(editor.getByRole("heading", { name: "Boat trailer moved", exact: true })).toBeVisible();

    // The member, on another screen, sees the count on the Board tab.
    await member.reload();
    await expect(member.getByRole("link", { name: "Board, 1 unread" })).toBeVisible();
    await expect(member.getByTestId("unread-badge")).toHaveText("1");
    await shot(member, "23-member-unread-badge");

    // The fake Expo push server got a push for the member's device.
    await expect
      .poll(async () => {
        const records = (await (await fetch(process.env.E2E_PUSH_RECORDS!)).json()) as { messages: unknown }[];
        return records.flatMap((r) => (Array.isArray(r.messages) ? r.messages : [r.messages])).some((m) => (m as { to?: unknown }).to === DEVICE_TOKEN);
      }, { timeout: 30_000 })
      .toBe(true);

    // The member's Profile lists that phone (GET /api/devices), and removing it empties the list.
    await member.getByRole("link", { name: "Profile" }).click();
    const devices = member.getByTestId("profile-devices");
    await expect(devices.getByText("iPhone or iPad", { exact: true })).toBeVisible();
    await expect(devices.getByText(/^Registered /)).toBeVisible();
    await shot(member, "23b-member-devices");
    await devices.getByRole("button", { name: /^Remove iPhone or iPad device/ }).click();
    await expect(devices.getByText(/No phone is registered yet/)).toBeVisible();

    await member.getByRole("link", { name: /^Board/ }).click();
    await expect(member.getByRole("button", { name: "New: Boat trailer moved" })).toBeVisible();
    await expect(member.getByTestId("unread-badge")).toHaveCount(0);
    await shot(member, "24-member-board-seen");
  });

  test("the editor removes the member; the member's next request is refused and the app returns to sign-in", async () => {
    await editor.getByRole("link", { name: "Members" }).click();
    await editor.getByRole("button", { name: `Remove ${MEMBER}` }).click();
    await editor.getByRole("button", { name: `Confirm removing ${MEMBER}` }).click();
    await expect(editor.getByText(MEMBER)).toHaveCount(0);
    await shot(editor, "25-members-removed");

    // Its next request (any screen change asks /api/me) is refused with 403.
    await member.getByRole("link", { name: "Ask" }).click();
    await expect(member).toHaveURL(/\/sign-in$/, { timeout: 20_000 });
    await expect(member.getByText(/You were signed out: you were removed from this workspace/)).toBeVisible();
    await shot(member, "26-member-removed");

    // Removed accounts cannot sign in again either.
    await member.getByLabel("E-mail").fill(MEMBER);
    await member.getByLabel("Password").fill(MEMBER_PASSWORD);
    await member.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect(member.getByRole("alert").filter({ hasText: /password is wrong|cannot sign in/ })).toBeVisible();
    expect(pageErrors, "no uncaught errors in the pages").toEqual([]);
  });
});
