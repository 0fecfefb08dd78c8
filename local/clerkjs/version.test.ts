/**
 * Version discipline: the clerk-js that the offline stack serves, the one production pins with
 * `clerkJSVersion`, and the one `@clerk/clerk-react` would load by default are all the version the
 * Frontend API emulation was verified with (the browser suite drives every flow through it).
 * When a dependency update moves any of them, this fails and says what to re-verify.
 */
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { CLERK_JS_VERSION } from "../../src/lib/clerkJs.ts";
import { clerkJsDist, clerkJsFiles } from "./vitePlugin.ts";

const repo = path.resolve(import.meta.dirname, "../..");
const require = createRequire(import.meta.url);
const readJson = (file: string) => JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;

const REVERIFY =
  "Run npm run test:e2e against the new clerk-js, fix the Frontend API emulation (local/idp/fapi) " +
  "until it passes, then set CLERK_JS_VERSION (src/lib/clerkJs.ts) and @clerk/clerk-js in package.json to it.";

describe("the pinned clerk-js", () => {
  test("package.json pins @clerk/clerk-js exactly to CLERK_JS_VERSION, and that is what is installed", () => {
    const manifest = readJson(path.join(repo, "package.json")) as { dependencies: Record<string, string> };
    expect(manifest.dependencies["@clerk/clerk-js"], REVERIFY).toBe(CLERK_JS_VERSION);
    const installed = readJson(require.resolve("@clerk/clerk-js/package.json"));
    expect(installed.version, REVERIFY).toBe(CLERK_JS_VERSION);
  });

  test("is the version @clerk/clerk-react loads when nothing is pinned", () => {
    // clerk-react asks its @clerk/shared's versionSelector, whose default is the clerk-js version
    // that clerk-react release was built against (it loads that major's latest from Clerk's CDN).
    const fromReact = createRequire(require.resolve("@clerk/clerk-react"));
    const selector = fs.readFileSync(fromReact.resolve("@clerk/shared/versionSelector"), "utf8");
    const chunk = /["']\.\/(versionSelector-[\w-]+\.m?js)["']/.exec(selector)?.[1];
    const source = chunk
      ? fs.readFileSync(
          path.join(path.dirname(fromReact.resolve("@clerk/shared/versionSelector")), chunk),
          "utf8",
        )
      : selector;
    const builtAgainst = /packageVersion\s*=\s*"([^"]+)"/.exec(source)?.[1];
    expect(
      builtAgainst,
      `clerk-react's default clerk-js version could not be read. ${REVERIFY}`,
    ).toBeDefined();
    expect(builtAgainst, REVERIFY).toBe(CLERK_JS_VERSION);
  });

  test("its browser bundle and the lazy chunks it loads are all served, and only .js files", () => {
    const files = clerkJsFiles(clerkJsDist());
    expect(files.has("clerk.browser.js")).toBe(true);
    const chunks = [...files.keys()].filter((n) => n.includes(`_clerk.browser_`));
    expect(chunks.length).toBeGreaterThan(40);
    for (const name of chunks) expect(name).toContain(`_${CLERK_JS_VERSION}.js`);
    for (const name of files.keys()) expect(name).toMatch(/^[\w.-]+\.js$/);
  });
});
