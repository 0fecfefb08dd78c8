/**
 * The SPA in real Chromium against the offline stack: realtime posts, plan and role gates, and an
 * admin's plan change reaching another user's open page live. (Signing in: auth.e2e.test.ts.)
 */
import { describe, expect, inject, test } from "vitest";
import { chromiumForSuite, createAccount, screenshot, signIn, uniqueEmail } from "./browser";

const baseUrl = inject("spaUrl");
const { newPage } = chromiumForSuite();

describe("posts", () => {
  test("a free user's post appears at once; insights are not offered", async () => {
    const page = await newPage();
    await signIn(page, baseUrl, "free@gatehouse.test");
    await page.getByLabel("Title").fill("Realtime hello");
    await page.getByLabel("Body").fill("Written in Chromium");
    await page.getByRole("button", { name: "Post" }).click();
    await page.getByRole("heading", { name: "Realtime hello" }).waitFor();
    await expect(page.getByRole("link", { name: "Insights" }).count()).resolves.toBe(0);
    await screenshot(page, "free-dashboard");
    await page.goto(`${baseUrl}/insights`);
    await page.getByRole("heading", { name: "Insights with Pro" }).waitFor();
  });

  test("a post made public shows up live on another user's public feed", async () => {
    const author = await newPage();
    const reader = await newPage();
    await signIn(author, baseUrl, "pro@gatehouse.test");
    await signIn(reader, baseUrl, "free@gatehouse.test");
    await reader.getByRole("link", { name: "Public" }).click();
    await reader.getByRole("heading", { name: "Public posts" }).waitFor();

    const title = `Announcement ${Date.now()}`;
    await author.getByLabel("Title").fill(title);
    await author.getByRole("button", { name: "Post" }).click();
    const item = author.getByRole("listitem").filter({ hasText: title });
    await item.getByRole("button", { name: "Make public" }).click();

    await reader.getByRole("heading", { name: title }).waitFor({ timeout: 10_000 });
    await expect(
      reader.getByRole("listitem").filter({ hasText: title }).getByRole("button").count(),
    ).resolves.toBe(0);
    await screenshot(reader, "public-feed-live");
  });

  test("a blank title gets the server's typed error and nothing is posted", async () => {
    const page = await newPage();
    await signIn(page, baseUrl, "pro@gatehouse.test");
    const myPosts = page.getByRole("region", { name: "My posts" });
    // Wait until the subscription has delivered the list (or its empty state) before counting.
    await myPosts.locator("ul.posts").or(myPosts.getByText("No posts yet")).first().waitFor();
    const before = await myPosts.getByRole("listitem").count();
    await page.getByLabel("Title").fill("   ");
    await page.getByRole("button", { name: "Post" }).click();
    await expect(page.getByRole("alert").textContent()).resolves.toMatch(/blank/i);
    await page.waitForTimeout(300); // a write would have reached the subscription by now
    await expect(myPosts.getByRole("listitem").count()).resolves.toBe(before);
  });
});

describe("administration", () => {
  test("non-admins see no admin page", async () => {
    const page = await newPage();
    await signIn(page, baseUrl, "pro@gatehouse.test");
    await expect(page.getByRole("link", { name: "Admin" }).count()).resolves.toBe(0);
    await page.goto(`${baseUrl}/admin`);
    await page.getByText("This page is for administrators.").waitFor();
  });

  test("an admin upgrades a user; the user's open page turns Pro by itself", async () => {
    const member = await newPage();
    const { email, password } = await createAccount(uniqueEmail("member"));
    await signIn(member, baseUrl, email, password);
    await member.getByText("Free", { exact: true }).waitFor();

    const admin = await newPage();
    await signIn(admin, baseUrl, "admin@gatehouse.test");
    await admin.getByRole("link", { name: "Admin" }).click();
    const planSelect = admin.getByLabel(`Plan of ${email}`);
    await planSelect.waitFor();
    // An admin cannot demote themself: the option is not offered (and the server refuses it anyway).
    await expect(
      admin.getByLabel("Role of admin@gatehouse.test").locator("option[value=user]").isDisabled(),
    ).resolves.toBe(true);
    await expect(planSelect.locator("option").allTextContents()).resolves.toEqual(["Free", "Pro"]);
    await planSelect.selectOption({ label: "Pro" });
    await admin.getByText(/is now on Pro\./).waitFor();

    await member.getByText("Pro", { exact: true }).waitFor({ timeout: 15_000 });
    await member.getByRole("link", { name: "Insights" }).click();
    await member.getByRole("heading", { level: 1, name: "Insights" }).waitFor();
    await member.getByRole("img", { name: /in the last 30 days/ }).waitFor();
    // The session token follows too: the app fetched a fresh one when the synced row's plan changed,
    // instead of waiting up to a token lifetime, and its `metadata` (what the server reads) now says
    // Pro by an administrator's grant. (`has({ plan })` reads Clerk Billing's `pla`, which a grant
    // leaves alone: ADR 009; the billing suite checks that claim after a checkout.)
    await expect
      .poll(() =>
        member.evaluate(
          () =>
            (
              window as unknown as {
                Clerk: {
                  session: { lastActiveToken: { jwt: { claims: { metadata?: Record<string, string> } } } };
                };
              }
            ).Clerk.session.lastActiveToken.jwt.claims.metadata,
        ),
      )
      .toEqual({ role: "user", plan: "pro", planOverride: "pro" });
    await admin
      .getByText(/changed .+’s plan: Free → Pro/)
      .first()
      .waitFor();
    await screenshot(admin, "admin-page");
    await screenshot(member, "member-upgraded");
  });

  test("an admin syncs the users table with Clerk and is told what was compared and repaired", async () => {
    const admin = await newPage();
    await signIn(admin, baseUrl, "admin@gatehouse.test");
    await admin.getByRole("link", { name: "Admin" }).click();
    await admin.getByRole("button", { name: "Sync with Clerk" }).click();
    await admin
      .getByText(/^Compared \d+ Clerk users: 0 added, 0 updated, 0 removed; 0 subscriptions repaired\.$/)
      .waitFor();
    await admin
      .getByText(
        /synced with Clerk: compared \d+ users, 0 added, 0 updated, 0 removed; 0 subscriptions repaired/,
      )
      .first()
      .waitFor();
    await screenshot(admin, "admin-synced");
    await admin.setViewportSize({ width: 390, height: 844 });
    await screenshot(admin, "admin-synced-390");
  });
});
