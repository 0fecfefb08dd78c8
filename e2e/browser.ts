import fs from "node:fs";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect, inject, test } from "vitest";
import { launchChromium } from "./chromium";
import { continueButton, enterCode } from "./clerkFlows";

export * from "./clerkFlows";

/** The stack e2e/globalSetup.ts started: the app, the IdP, and the key that opens the IdP's mailbox. */
export const stack = {
  baseUrl: inject("spaUrl"),
  idpUrl: inject("idpUrl"),
  idpSecretKey: inject("idpSecretKey"),
};

const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/** The widths every user journey runs at (see `testAtEachWidth`). */
export const WIDTHS = [
  { label: "desktop 1280 px", viewport: DESKTOP, phone: false },
  { label: "phone 390 px", viewport: PHONE, phone: true },
] as const;
export type Width = (typeof WIDTHS)[number];

/** A journey as one test per width, named "<name> (desktop 1280 px)" and "<name> (phone 390 px)". */
export function testAtEachWidth(name: string, journey: (width: Width) => Promise<void>, timeout?: number) {
  for (const width of WIDTHS) test(`${name} (${width.label})`, () => journey(width), timeout);
}

/**
 * A journey's key step, pictured as `<step>-<width>.png`. At phone width the page must not scroll
 * sideways, and the picture is the screen as the person holds it (fixed bars, toasts and menus
 * where they really are), not the whole page.
 */
export async function keyStep(page: Page, width: Width, step: string) {
  if (width.phone) {
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(scrollWidth, `${step}: the page scrolls sideways`).toBeLessThanOrEqual(width.viewport.width);
  }
  await screenshot(page, `${step}-${width.viewport.width}`, { fullPage: !width.phone });
}

/**
 * One Chromium for a test file, closed with every context it opened. A context is one device: its
 * own cookies, so its own Clerk client and session; tabs of one device share them.
 */
export function chromiumForSuite() {
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => {
    browser = await launchChromium();
  });
  // A failed journey leaves a picture of every page it had open.
  afterEach(async ({ task }) => {
    if (task.result?.state !== "fail") return;
    const pages = contexts.flatMap((c) => c.pages());
    // Long names keep their end too: a journey's width ("phone 390 px") tells its two runs apart.
    const name = task.name.replace(/[^a-z0-9]+/gi, "-");
    const slug = name.length > 60 ? `${name.slice(0, 44)}-${name.slice(-15)}` : name;
    await Promise.all(pages.map((p, i) => screenshot(p, `failed-${slug}-${i}`).catch(() => undefined)));
  });
  afterAll(async () => {
    await Promise.all(contexts.map((c) => c.close()));
    await browser?.close();
  });
  const newDevice = async (viewport = DESKTOP) => {
    const context = await browser!.newContext({ viewport });
    contexts.push(context);
    return context;
  };
  const openTab = async (device: BrowserContext) => {
    const page = await device.newPage();
    page.on("pageerror", (error) => console.error(`[browser] ${error.message}`));
    return page;
  };
  const newPage = async (viewport = DESKTOP) => openTab(await newDevice(viewport));
  return { newDevice, openTab, newPage };
}

const artifacts = path.resolve(import.meta.dirname, "artifacts");

export async function screenshot(page: Page, name: string, { fullPage = true } = {}) {
  fs.mkdirSync(artifacts, { recursive: true });
  // Transitions finished: the screen as it settles, not Clerk's cards halfway through a fade.
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage, animations: "disabled" });
}

/**
 * The newest code the IdP "emailed" to `email` (its dev mailbox, loopback only), waiting for it:
 * clerk-js asks for the code just after it shows the code form.
 */
export async function latestCode(email: string, after = 0): Promise<string> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const url = `${stack.idpUrl}/v1/dev/mailbox?email=${encodeURIComponent(email)}`;
    const response = await fetch(url, { headers: { Authorization: `Bearer ${stack.idpSecretKey}` } });
    if (!response.ok) throw new Error(`the IdP's mailbox answered HTTP ${response.status}`);
    const { data } = (await response.json()) as { data: { code: string; created_at: number }[] };
    const newest = data[0];
    if (newest && newest.created_at > after) return newest.code;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no code for ${email} in the IdP's mailbox`);
}

/**
 * Clerk's `<SignUp>` with the email code, which lands on Gatehouse's onboarding (the seed's
 * afterSignUpUrl); the display name given there, then the dashboard. `step` is called with the
 * form filled ("sign-up"), at the code ("sign-up-code") and with the name given ("onboarding").
 */
export async function signUp(
  page: Page,
  email: string,
  name: string,
  step: (stepName: string) => Promise<void> = async () => undefined,
) {
  await page.goto(`${stack.baseUrl}/sign-up`);
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill("correct horse battery");
  await step("sign-up");
  await continueButton(page).click();
  await page.getByText("Verify your email").waitFor();
  await step("sign-up-code");
  await enterCode(page, await latestCode(email));
  await page.waitForURL(/\/onboarding$/).catch(async (error: unknown) => {
    await screenshot(page, "sign-up-stuck");
    throw error;
  });
  await page.getByLabel("What should we call you?").fill(name);
  await step("onboarding");
  await page.getByRole("button", { name: "Continue to my posts" }).click();
  await page.getByRole("heading", { name: "My posts" }).waitFor();
}

/**
 * A fresh account made through the IdP's dev API, which takes the secret key (for tests about an
 * account, not about signing up). The dev API signs the new user in; that session is ended so it
 * lists no device.
 */
export async function createAccount(email: string, password = "correct horse battery") {
  const post = (path: string, body: unknown = {}) =>
    fetch(`${stack.idpUrl}${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${stack.idpSecretKey}` },
      body: JSON.stringify(body),
    });
  const response = await post("/v1/dev/sign_up", { email, password, firstName: "Test", lastName: "Account" });
  if (!response.ok) throw new Error(`creating ${email}: HTTP ${response.status}`);
  const { sessionId } = (await response.json()) as { sessionId: string };
  const ended = await post(`/v1/dev/sessions/${encodeURIComponent(sessionId)}/end`);
  if (!ended.ok) throw new Error(`ending the dev session of ${email}: HTTP ${ended.status}`);
  return { email, password };
}

export const uniqueEmail = (who: string) =>
  `${who}.${Date.now()}.${Math.random().toString(36).slice(2, 6)}@gatehouse.test`;
