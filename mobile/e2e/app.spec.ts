/**
 * End to end, in Debian's Chromium, against the real local API (see global-setup.ts):
 * sign in with a dev token, post notices, upload a small document and wait until it is indexed,
 * ask about it and see the answer stream in, then the checked answer citing that document, then the model screen refusing a fine-tune
 * on too little data (422). Saves a screenshot of each screen.
 */
import { expect, type Page, test } from "@playwright/test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const SHOTS = path.join(__dirname, "screenshots");
mkdirSync(SHOTS, { recursive: true });

const DOC_TITLE = "Boat names 2026";
const DOC_TEXT = [
  "Riverside Rowing Club - boat names for the 2026 season.",
  "The club's new racing eight is named Kingfisher Seven. It was delivered in March and is kept in bay 4.",
  "The old coxed four, Heron, is retired and will be sold in the autumn.",
].join("\n");

async function shot(page: Page, name: string) {
  await page.waitForTimeout(300); // let layout settle
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: false });
}

test("sign in, post, upload, wait for indexed, ask and see the citation", async ({ page, browser }) => {
  const base = process.env.E2E_BASE_URL!;
  const token = process.env.E2E_TOKEN!;
  expect(base, "global-setup sets E2E_BASE_URL").toBeTruthy();
  const pageErrors: string[] = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));

  // --- sign in ---
  await page.goto(base + "/");
  await expect(page).toHaveURL(/\/sign-in$/);
  await expect(page.getByRole("heading", { name: "Sign in", exact: true })).toBeVisible();
  await shot(page, "01-sign-in");
  await page.getByRole("button", { name: "Developer: sign in with a token" }).click();
  await page.getByLabel("Dev token").fill("not-a-token");
  await page.getByRole("button", { name: "Sign in with token" }).click();
  await expect(page.getByText(/not a valid token/)).toBeVisible();
  await page.getByLabel("Dev token").fill(token);
  await page.getByRole("button", { name: "Sign in with token" }).click();

  // --- the board, empty at first ---
  await expect(page).toHaveURL(/\/board$/);
  await expect(page.getByText("No notices yet")).toBeVisible();
  await shot(page, "02-board-empty");

  // --- post a pinned notice, then a newer unpinned one ---
  await page.getByRole("button", { name: "Post a notice" }).click();
  await expect(page).toHaveURL(/\/notices\/new$/);
  await page.getByLabel("Title").fill("Regatta on Sunday");
  await page.getByLabel("Notice text").fill("The spring regatta starts at 09:00 on Sunday. Crews meet at the boathouse at 08:00.");
  await page.getByRole("switch", { name: "Pin to the top of the board" }).click();
  await shot(page, "03-notice-form");
  await page.getByRole("button", { name: "Post notice" }).click();
  await expect(page).toHaveURL(/\/notices\/[0-9a-f]+$/);
  await expect(page.getByRole("heading", { name: "Regatta on Sunday", exact: true })).toBeVisible();
  await expect(page.getByText("Pinned", { exact: true })).toBeVisible();
  await shot(page, "04-notice-detail");

  await page.getByRole("button", { name: "Back to the board" }).click();
  await page.getByRole("button", { name: "Post a notice" }).click();
  await page.getByLabel("Title").fill("Boathouse cleaning day");
  await page.getByLabel("Notice text").fill("Everyone helps clean the boathouse on the first Saturday of the month, 10:00 to 12:00.");
  await page.getByRole("button", { name: "Post notice" }).click();
  await expect(page.getByRole("heading", { name: "Boathouse cleaning day", exact: true })).toBeVisible();
  await page.getByRole("link", { name: "Board" }).click();
  await expect(page).toHaveURL(/\/board$/);
  const rows = page.locator('[data-testid^="notice-"]');
  await expect(rows).toHaveCount(2);
  // pinned first even though it is older
  await expect(rows.nth(0)).toContainText("Regatta on Sunday");
  await expect(rows.nth(1)).toContainText("Boathouse cleaning day");
  await shot(page, "05-board");

  // --- upload a document and watch it go from queued to indexed ---
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), "e2e-upload-")), "boat-names.txt");
  writeFileSync(file, DOC_TEXT);
  await page.getByRole("link", { name: "Documents" }).click();
  await expect(page).toHaveURL(/\/documents$/);
  await expect(page.getByText("No documents yet")).toBeVisible();
  const chooser = page.waitForEvent("filechooser");
  await page.getByRole("button", { name: "Choose a file" }).click();
  await (await chooser).setFiles(file);
  await expect(page.getByTestId("picked-file")).toContainText("boat-names.txt");
  await page.getByLabel("Document title (optional)").fill(DOC_TITLE);
  await page.getByRole("button", { name: "Upload document" }).click();
  await expect(page.getByText(/is queued for indexing/)).toBeVisible();
  await expect(page.getByLabel(`${DOC_TITLE}: Indexed`)).toBeVisible({ timeout: 120_000 });
  await expect(page.getByText(/\d+ passages?/)).toBeVisible();
  await shot(page, "06-documents-indexed");

  // --- ask about it ---
  await page.getByRole("link", { name: "Ask" }).click();
  await expect(page).toHaveURL(/\/ask$/);
  await shot(page, "07-ask-empty");
  // The answer streams: record, from inside the page, every moment the draft or the checked
  // answer is in the DOM, so the order is known however fast the model writes.
  await page.evaluate(() => {
    const log: { kind: "draft" | "final"; text: string }[] = [];
    (window as unknown as { streamLog: typeof log }).streamLog = log;
    const look = () => {
      const draft = document.querySelector('[data-testid="answer-draft"]');
      if (draft?.textContent) log.push({ kind: "draft", text: draft.textContent });
      const final = document.querySelector('[data-testid="answer"]');
      if (final?.textContent) log.push({ kind: "final", text: final.textContent });
    };
    new MutationObserver(look).observe(document.body, { childList: true, subtree: true, characterData: true });
  });
  await page.getByLabel("Your question").fill("What is the name of the club's new racing eight?");
  await page.getByRole("button", { name: "Send question" }).click();
  const answer = page.getByTestId("answer");
  await expect(answer).toBeVisible({ timeout: 180_000 });
  await expect(page.getByRole("button", { name: "Stop answering" })).toHaveCount(0);
  await expect(page.getByTestId("answer-streaming")).toHaveCount(0);
  const log = await page.evaluate(() => (window as unknown as { streamLog: { kind: string; text: string }[] }).streamLog);
  const firstFinal = log.findIndex((e) => e.kind === "final");
  const drafts = log.slice(0, firstFinal).filter((e) => e.kind === "draft");
  console.log(`e2e: ${drafts.length} renders of the draft before the checked answer`);
  expect(drafts.length, "the model's text showed while it was written, before the checked answer").toBeGreaterThan(0);
  expect(log.slice(firstFinal).some((e) => e.kind === "draft"), "the checked answer replaced the draft").toBe(false);
  const citation = answer.getByRole("button", { name: new RegExp(`^Source \\d+: ${DOC_TITLE}`) }).first();
  await expect(citation).toBeVisible();
  await citation.click();
  await expect(answer.getByText(/Kingfisher Seven/).last()).toBeVisible();
  await expect(answer.getByTestId("answered-by")).toHaveText(/^Answered by \S+/);
  await expect(answer.getByTestId("answer-warning")).toHaveCount(0);
  await shot(page, "08-ask-answer-citation");

  // --- a question the notices do not answer ---
  await page.getByLabel("Your question").fill("What is the capital of Peru?");
  await page.getByRole("button", { name: "Send question" }).click();
  await expect(page.getByTestId("not-grounded")).toBeVisible({ timeout: 180_000 });
  await expect(page.getByText("Not in your notices")).toBeVisible();
  await page.getByTestId("not-grounded").scrollIntoViewIfNeeded();
  await shot(page, "09-ask-not-in-notices");

  // --- model: the base model answers; the server checks the parameters and refuses too little data (422) ---
  await page.getByRole("link", { name: "Model" }).click();
  await expect(page).toHaveURL(/\/model$/);
  await expect(page.getByTestId("active-model")).toHaveText("The shared base model");
  await expect(page.getByText("No fine-tuned versions yet")).toBeVisible();
  await expect(page.getByRole("button", { name: "Roll back to the base model" })).toHaveCount(0);
  await page.getByLabel("Learning rate").fill("0.5");
  await page.getByRole("button", { name: "Start fine-tune" }).click();
  await expect(page.getByTestId("start-problem")).toContainText("Cannot start this fine-tune");
  await expect(page.getByTestId("start-problem")).toContainText(/learning_rate must be between/);
  await page.getByLabel("Epochs").fill("1");
  await page.getByLabel("Learning rate").fill("0.0002");
  await page.getByRole("button", { name: "Start fine-tune" }).click();
  await expect(page.getByTestId("start-problem")).toContainText(/too little data to fine-tune/);
  await expect(page.getByTestId("fine-tune-job")).toHaveCount(0);
  await shot(page, "10-model-too-little-data");

  // --- the same app on a phone-sized window (a new page keeps the stored token) ---
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const phonePage = await phone.newPage();
  await phonePage.goto(base + "/sign-in");
  await phonePage.getByRole("button", { name: "Developer: sign in with a token" }).click();
  await phonePage.getByLabel("Dev token").fill(token);
  await phonePage.getByRole("button", { name: "Sign in with token" }).click();
  await expect(phonePage.getByRole("tablist", { name: "Main navigation" })).toBeVisible();
  await expect(phonePage.locator('[data-testid^="notice-"]').first()).toContainText("Regatta on Sunday");
  await shot(phonePage, "11-phone-board");
  await phonePage.getByRole("link", { name: "Documents" }).click();
  await expect(phonePage.getByLabel(`${DOC_TITLE}: Indexed`)).toBeVisible();
  await shot(phonePage, "12-phone-documents");
  await phone.close();

  // --- a token the server refuses sends the user back to sign-in ---
  await page.evaluate(() => window.localStorage.setItem("noticebot.idToken", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4IiwiZXhwIjo0MTAyNDQ0ODAwfQ.bad"));
  await page.goto(base + "/board");
  await expect(page).toHaveURL(/\/sign-in$/);
  await expect(page.getByText(/You were signed out/)).toBeVisible();

  expect(pageErrors, "no uncaught errors in the page").toEqual([]);
});
