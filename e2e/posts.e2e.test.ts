/**
 * The posts dashboard in Chromium, each journey at desktop and phone width: the free quota as a
 * meter and a locked form, editing in place, delete with undo, scheduling from the form (Pro); and
 * a 360 px screen with an unbroken title.
 */
import type { Page } from "playwright-core";
import { describe, expect, inject, test } from "vitest";
import {
  chromiumForSuite,
  createAccount,
  keyStep,
  screenshot,
  signIn,
  uniqueEmail,
  testAtEachWidth,
} from "./browser";

const baseUrl = inject("spaUrl");
const { newPage } = chromiumForSuite();

const item = (page: Page, title: string) =>
  page.getByRole("region", { name: "My posts" }).getByRole("listitem").filter({ hasText: title });

async function post(page: Page, title: string) {
  await page.getByLabel("Title").fill(title);
  await page.getByRole("button", { name: "Post", exact: true }).click();
  await page.getByRole("heading", { name: title, exact: true }).waitFor();
}

/** The page cannot be scrolled sideways. */
const noSidewaysScroll = (page: Page) =>
  page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth);

describe("posts", () => {
  testAtEachWidth(
    "a free account posts 10 posts watching the meter, then the form is locked with an Upgrade link",
    async (width) => {
      const page = await newPage(width.viewport);
      const { email, password } = await createAccount(uniqueEmail("quota"));
      const consoleErrors: string[] = [];
      page.on("console", (message) => {
        if (message.type() === "error") consoleErrors.push(message.text());
      });
      await signIn(page, baseUrl, email, password);
      await page.getByText("0 / 10 posts").waitFor();
      await expect(page.title()).resolves.toBe("My posts · Gatehouse");
      // A refusal the server expects (a blank title) is a sentence in the form, not a console error.
      await page.getByLabel("Title").fill("   ");
      await page.getByRole("button", { name: "Post", exact: true }).click();
      await expect(page.getByRole("alert").textContent()).resolves.toMatch(/blank/i);
      for (let i = 1; i <= 10; i++) {
        await page.getByLabel("Title").fill(`Quota post ${i}`);
        if (i === 1) await page.getByRole("checkbox", { name: "Public" }).check();
        await page.getByRole("button", { name: "Post", exact: true }).click();
        await page.getByText(`${i} / 10 posts`).waitFor();
        await page.getByRole("heading", { name: `Quota post ${i}`, exact: true }).waitFor();
        if (i === 1) {
          // Back to an empty, private post, with the cursor in the title for the next one.
          await expect(page.getByLabel("Title").inputValue()).resolves.toBe("");
          await expect(page.getByRole("checkbox", { name: "Public" }).isChecked()).resolves.toBe(false);
          await expect(
            page.getByLabel("Title").evaluate((el) => el === document.activeElement),
          ).resolves.toBe(true);
          await keyStep(page, width, "posts-first-post");
          // Its toast's × is big enough to tap (WCAG 2.5.8: at least 24 × 24 px).
          const dismiss = await page.getByRole("button", { name: "Dismiss" }).boundingBox();
          expect(dismiss?.width).toBeGreaterThanOrEqual(24);
          expect(dismiss?.height).toBeGreaterThanOrEqual(24);
        }
      }
      await expect(page.getByLabel("Title").isDisabled()).resolves.toBe(true);
      await expect(page.getByRole("button", { name: "Post", exact: true }).isDisabled()).resolves.toBe(true);
      const upgrade = page.getByRole("region", { name: "Upgrade to Pro" });
      await expect(upgrade.getByRole("link", { name: "See plans" }).getAttribute("href")).resolves.toBe(
        "/pricing",
      );
      await expect(page.getByRole("alert").count()).resolves.toBe(0);
      // Ten posts in a few seconds: on a phone their toasts do not stack down over the page.
      if (width.phone) expect(await page.locator(".toast:visible").count()).toBeLessThanOrEqual(1);
      await keyStep(page, width, "posts-quota-locked");
      expect(consoleErrors).toEqual([]);
      await upgrade.getByRole("link", { name: "See plans" }).click();
      await page.waitForURL(/\/pricing$/);
      await page.getByRole("heading", { level: 1, name: "Plans" }).waitFor();
      await keyStep(page, width, "posts-see-plans");
    },
  );

  testAtEachWidth(
    "edit a post in place; delete with undo, then for real (also when leaving at once)",
    async (width) => {
      const page = await newPage(width.viewport);
      const { email, password } = await createAccount(uniqueEmail("editor"));
      await signIn(page, baseUrl, email, password);
      await post(page, "Draft one");
      await post(page, "Keep me");
      await post(page, "Leave me");

      // Edit: Save changes it; Escape leaves it as it was.
      await item(page, "Draft one").getByRole("button", { name: "Edit" }).click();
      const form = page.getByRole("form", { name: "Edit “Draft one”" });
      await form.getByLabel("Title").fill("Edited title");
      await form.getByLabel("Body").fill("Now with a body");
      await keyStep(page, width, "posts-editing");
      await form.getByRole("button", { name: "Save" }).click();
      await page.getByRole("heading", { name: "Edited title", exact: true }).waitFor();
      await item(page, "Edited title").getByText("Now with a body").waitFor();
      await page.getByText("Saved", { exact: true }).waitFor();
      await keyStep(page, width, "posts-saved");
      await item(page, "Edited title").getByRole("button", { name: "Edit" }).click();
      await page.getByRole("form", { name: "Edit “Edited title”" }).getByLabel("Title").fill("Not this");
      await page.keyboard.press("Escape");
      await page.getByRole("heading", { name: "Edited title", exact: true }).waitFor();
      await expect(page.getByRole("heading", { name: "Not this" }).count()).resolves.toBe(0);

      // Delete, then Undo: still there after the undo window, and after a reload.
      await item(page, "Keep me").getByRole("button", { name: "Delete" }).click();
      await page.getByText("Post deleted").waitFor();
      await expect(page.getByRole("heading", { name: "Keep me" }).count()).resolves.toBe(0);
      await keyStep(page, width, "posts-undo");
      await page.getByRole("button", { name: "Undo deleting “Keep me”" }).click();
      await page.getByRole("heading", { name: "Keep me", exact: true }).waitFor();
      await page.waitForTimeout(6_000);
      await page.reload();
      await page.getByRole("heading", { name: "Keep me", exact: true }).waitFor();

      // Delete for real: gone once the undo window has passed, also after a reload.
      await item(page, "Edited title").getByRole("button", { name: "Delete" }).click();
      await page.getByText("Post deleted").waitFor({ state: "detached", timeout: 10_000 });
      await page.reload();
      await page.getByRole("heading", { name: "Keep me", exact: true }).waitFor();
      await expect(page.getByRole("heading", { name: "Edited title" }).count()).resolves.toBe(0);

      // Delete and leave the page at once: the deletion is sent, not lost.
      await item(page, "Leave me").getByRole("button", { name: "Delete" }).click();
      await page.goto(`${baseUrl}/pricing`);
      await page.goto(baseUrl);
      await page.getByRole("heading", { name: "Keep me", exact: true }).waitFor();
      await expect(page.getByRole("heading", { name: "Leave me" }).count()).resolves.toBe(0);
      await page.getByText("1 / 10 posts").waitFor();
    },
  );

  testAtEachWidth("a Pro user schedules a post from the form and cancels the schedule", async (width) => {
    const page = await newPage(width.viewport);
    await signIn(page, baseUrl, "pro@gatehouse.test");
    await expect(page.getByRole("meter").count()).resolves.toBe(0);
    const title = `Scheduled ${Date.now()}`;
    // An hour ahead, in the browser's own time zone (what a datetime-local field holds).
    const when = await page.evaluate(() => {
      const d = new Date(Date.now() + 3_600_000);
      const pad = (n: number) => String(n).padStart(2, "0");
      return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
    });
    await page.getByLabel("Title").fill(title);
    await page.getByLabel("Publish at (optional)").fill(when);
    await expect(page.getByRole("checkbox", { name: "Public" }).isDisabled()).resolves.toBe(true);
    await keyStep(page, width, "posts-schedule-picker");
    await page.getByRole("button", { name: "Post and schedule" }).click();
    const scheduled = item(page, title);
    await scheduled.getByText("Publishes").waitFor();
    await expect(scheduled.locator("time").getAttribute("datetime")).resolves.toBe(
      new Date(await page.evaluate((w) => new Date(w).getTime(), when)).toISOString(),
    );
    await expect(page.getByLabel("Publish at (optional)").inputValue()).resolves.toBe("");
    await keyStep(page, width, "posts-scheduled");
    await scheduled.getByRole("button", { name: "Cancel schedule" }).click();
    await scheduled.getByText("Publishes").waitFor({ state: "detached" });
    await expect(scheduled.getByText("private", { exact: true }).count()).resolves.toBe(1);
    await page.getByText("Schedule cancelled; the post stays private").waitFor();
    await keyStep(page, width, "posts-schedule-cancelled");
  });

  test("360 px wide: no sideways scroll, even with a 120-character unbroken title", async () => {
    const page = await newPage({ width: 360, height: 780 });
    const { email, password } = await createAccount(uniqueEmail("narrow"));
    await signIn(page, baseUrl, email, password);
    const long = "W".repeat(120);
    await page.getByLabel("Title").fill(long);
    await page.getByText("120 / 120").waitFor();
    await page.getByRole("button", { name: "Post", exact: true }).click();
    await page.getByRole("heading", { name: long }).waitFor();
    await expect(noSidewaysScroll(page)).resolves.toBe(true);
    await screenshot(page, "posts-360");
    await item(page, long).getByRole("button", { name: "Edit" }).click();
    await expect(noSidewaysScroll(page)).resolves.toBe(true);
    await screenshot(page, "posts-360-editing");
    await page.keyboard.press("Escape");
    await item(page, long).getByRole("button", { name: "Delete" }).click();
    await page.getByText("Post deleted").waitFor();
    await expect(noSidewaysScroll(page)).resolves.toBe(true);
    await screenshot(page, "posts-360-undo");
  });
});
