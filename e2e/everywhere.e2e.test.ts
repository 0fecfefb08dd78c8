/**
 * What holds on every page: no accessibility violations axe-core can find, no horizontal scroll
 * at 360 px, and a backend that stops answering is shown, not hidden, and recovered from (at
 * desktop and phone width).
 */
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import type { Page } from "playwright-core";
import { describe, expect, test } from "vitest";
import { E2E_PORTS } from "./globalSetup";
import { chromiumForSuite, keyStep, screenshot, signIn, stack, testAtEachWidth } from "./browser";

const { newPage } = chromiumForSuite();
const axeSource = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

type Violation = { id: string; impact: string; help: string; nodes: { target: string[] }[] };

/** Every axe-core rule (WCAG 2.x A/AA and its best practices, e.g. one `<h1>`) on the page as it is. */
async function axeViolations(page: Page): Promise<Violation[]> {
  await page.addScriptTag({ path: axeSource });
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (o: object) => Promise<{ violations: Violation[] }> } })
      .axe;
    const { violations } = await axe.run({});
    return violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target })),
    }));
  });
}

const SIGNED_OUT = ["/", "/sign-in", "/sign-up", "/pricing", "/public", "/no-such-page"];
const SIGNED_IN: { who: string; paths: string[] }[] = [
  {
    who: "free@gatehouse.test",
    paths: [
      "/",
      "/public",
      "/insights",
      "/pricing",
      "/account",
      "/account/plan",
      "/account/data",
      "/onboarding",
    ],
  },
  { who: "admin@gatehouse.test", paths: ["/admin", "/insights"] },
];

async function settle(page: Page) {
  await page.waitForLoadState("networkidle").catch(() => undefined);
  await page.waitForTimeout(400);
}

describe("every page", () => {
  test("axe-core is really checking: it flags a page with an unlabelled image and no heading", async () => {
    const page = await newPage();
    await page.setContent("<!doctype html><html lang=en><title>x</title><main><img src=x.png></main></html>");
    const ids = (await axeViolations(page)).map((v) => v.id);
    expect(ids).toEqual(expect.arrayContaining(["image-alt", "page-has-heading-one"]));
  });

  test("axe-core finds no violations, signed out and signed in", async () => {
    const found: Record<string, string[]> = {};
    const visit = async (page: Page, label: string, path: string) => {
      await page.goto(`${stack.baseUrl}${path}`);
      await settle(page);
      const violations = await axeViolations(page);
      found[`${label} ${path}`] = violations.map(
        (v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`,
      );
    };
    const visitor = await newPage();
    for (const path of SIGNED_OUT) await visit(visitor, "signed out", path);
    for (const { who, paths } of SIGNED_IN) {
      const page = await newPage();
      await signIn(page, stack.baseUrl, who);
      for (const path of paths) await visit(page, who, path);
    }
    console.log(
      `[e2e] axe: ${Object.entries(found)
        .map(([page, v]) => `${page}: ${v.length}`)
        .join("; ")}`,
    );
    expect(found).toEqual(Object.fromEntries(Object.keys(found).map((k) => [k, []])));
  }, 180_000);

  test("nothing scrolls sideways at 360 px", async () => {
    const widths: Record<string, number> = {};
    const measure = async (page: Page, label: string, path: string) => {
      await page.goto(`${stack.baseUrl}${path}`);
      await settle(page);
      widths[`${label} ${path}`] = await page.evaluate(() => document.documentElement.scrollWidth);
      await screenshot(page, `360-${label.split("@")[0]}-${path.replace(/\W+/g, "_") || "root"}`);
    };
    const narrow = { width: 360, height: 780 };
    const visitor = await newPage(narrow);
    for (const path of SIGNED_OUT) await measure(visitor, "signed out", path);
    for (const { who, paths } of SIGNED_IN) {
      const page = await newPage(narrow);
      await signIn(page, stack.baseUrl, who);
      for (const path of paths) await measure(page, who, path);
    }
    expect(Object.entries(widths).filter(([, w]) => w > 360)).toEqual([]);
  }, 180_000);
});

describe("a backend that stops answering", () => {
  testAtEachWidth(
    "is shown while a post waits, and the post lands once it answers again",
    async (width) => {
      const page = await newPage(width.viewport);
      await signIn(page, stack.baseUrl, "pro@gatehouse.test");
      const pid = backendPid();
      const title = `Sent during a pause ${Date.now()}`;
      process.kill(pid, "SIGSTOP");
      try {
        await page.getByLabel("Title").fill(title);
        await page.getByRole("button", { name: "Post" }).click();
        await page
          .getByText("The server is slow to answer… Your changes are kept and will be sent.")
          .waitFor({ timeout: 15_000 });
        await keyStep(page, width, "backend-paused");
      } finally {
        process.kill(pid, "SIGCONT");
      }
      await page.getByRole("heading", { name: title }).waitFor({ timeout: 15_000 });
      await page
        .getByText(/The server is slow to answer|Reconnecting/)
        .waitFor({ state: "detached", timeout: 15_000 });
      await keyStep(page, width, "backend-recovered");
    },
    60_000,
  );
});

/** The local backend's process: whoever listens on the stack's client port. */
function backendPid(): number {
  const out = execFileSync("ss", ["-ltnpH", `sport = :${E2E_PORTS.backend}`], { encoding: "utf8" });
  const pid = Number(/pid=(\d+)/.exec(out)?.[1]);
  if (!Number.isInteger(pid) || pid <= 0)
    throw new Error(`no process listens on :${E2E_PORTS.backend}: ${out}`);
  return pid;
}
