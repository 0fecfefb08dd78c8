/**
 * `npm run screenshots`: regenerates the README's pictures (docs/screenshots/*.png) from the real
 * offline stack in Debian's Chromium: the landing page, a dashboard, insights and the admin page,
 * at desktop width, plus the dashboard on a phone.
 */
import path from "node:path";
import type { Page } from "playwright-core";
import { launchChromium } from "../e2e/chromium.ts";
import { signIn } from "../e2e/clerkFlows.ts";
import { startStack } from "../e2e/stack.ts";

const out = path.resolve(import.meta.dirname, "../docs/screenshots");
const stack = await startStack({ backend: 4910, site: 4911, idp: 4912, spa: 4973 });
const browser = await launchChromium();
try {
  const shoot = async (page: Page, name: string) => {
    await page.waitForLoadState("networkidle").catch(() => undefined);
    await page.waitForTimeout(600);
    await page.screenshot({ path: path.join(out, `${name}.png`) });
    console.log(`docs/screenshots/${name}.png`);
  };
  const desktop = { width: 1280, height: 800 };

  const visitor = await (await browser.newContext({ viewport: desktop })).newPage();
  await visitor.goto(stack.spaUrl);
  await shoot(visitor, "landing");

  // Self-serve Pro: Clerk's pricing table and its checkout, paying with the saved test card.
  const free = await (await browser.newContext({ viewport: desktop })).newPage();
  await signIn(free, stack.spaUrl, "free@gatehouse.test");
  await free.goto(`${stack.spaUrl}/pricing`);
  await free.getByRole("button", { name: "Subscribe", exact: true }).waitFor();
  await shoot(free, "pricing");
  await free.getByRole("button", { name: "Subscribe", exact: true }).click();
  await free.getByRole("button", { name: /^Pay / }).waitFor();
  await shoot(free, "checkout");

  const pro = await (await browser.newContext({ viewport: desktop })).newPage();
  await signIn(pro, stack.spaUrl, "pro@gatehouse.test");
  for (const [title, body] of [
    ["Quarterly roadmap", "What we ship next, and why."],
    ["Release notes 2.4", "Faster sync, clearer errors."],
    ["Team offsite", "Agenda and travel."],
  ] as const) {
    await pro.getByLabel("Title").fill(title);
    await pro.getByLabel("Body").fill(body);
    await pro.getByRole("button", { name: "Post", exact: true }).click();
    await pro.getByRole("heading", { name: title }).waitFor();
  }
  // Let the "Posted" toasts go before the picture.
  await pro
    .locator(".toast")
    .first()
    .waitFor({ state: "detached", timeout: 10_000 })
    .catch(() => undefined);
  await shoot(pro, "dashboard");
  await pro.goto(`${stack.spaUrl}/insights`);
  await shoot(pro, "insights");

  const admin = await (await browser.newContext({ viewport: desktop })).newPage();
  await signIn(admin, stack.spaUrl, "admin@gatehouse.test");
  await admin.goto(`${stack.spaUrl}/admin`);
  await shoot(admin, "admin");

  const phone = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  await signIn(phone, stack.spaUrl, "pro@gatehouse.test");
  await shoot(phone, "dashboard-phone");
} finally {
  await browser.close();
  await stack.stop();
}
