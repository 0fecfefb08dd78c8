/**
 * The dev server's offline-Clerk plugin: it serves the pinned clerk-js build file by file and
 * nothing else under its prefix, and forwards exactly the Frontend API path to the IdP.
 */
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { createServer, type ViteDevServer } from "vite";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { encodeAll, get } from "../test.servedProbe.ts";
import { CLERK_JS_BASE_PATH, CLERK_JS_SCRIPT_PATH } from "./offline.ts";
import { clerkJsDist, offlineClerk } from "./vitePlugin.ts";

let vite: ViteDevServer;
let port: number;
let idp: http.Server;
const forwarded: string[] = [];
const root = fs.mkdtempSync(path.join(os.tmpdir(), "gatehouse-clerkjs-"));

beforeAll(async () => {
  // A stand-in IdP that records what reaches it.
  idp = http.createServer((req, res) => {
    forwarded.push(`${req.method} ${req.url}`);
    res.setHeader("Content-Type", "application/json");
    res.end(JSON.stringify({ reached: "idp" }));
  });
  await new Promise<void>((r) => idp.listen(0, "127.0.0.1", r));
  const idpUrl = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
  fs.writeFileSync(path.join(root, "index.html"), "<!doctype html><title>spa</title>");
  vite = await createServer({
    root,
    configFile: false,
    logLevel: "silent",
    server: { host: "127.0.0.1", port: 0 },
    plugins: [offlineClerk({ idpUrl })],
  });
  await vite.listen();
  port = (vite.httpServer!.address() as AddressInfo).port;
});
afterAll(async () => {
  await vite?.close();
  await new Promise((r) => idp?.close(r));
  fs.rmSync(root, { recursive: true, force: true });
});

describe("clerk-js from node_modules", () => {
  test("the script and a lazy chunk are served byte for byte, as JavaScript, cacheable for good", async () => {
    const dist = clerkJsDist();
    const chunk = fs.readdirSync(dist).find((n) => n.startsWith("signin_clerk.browser_"))!;
    for (const name of ["clerk.browser.js", chunk]) {
      const response = await fetch(`http://127.0.0.1:${port}${CLERK_JS_BASE_PATH}${name}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(response.headers.get("cache-control")).toContain("immutable");
      expect(Buffer.from(await response.arrayBuffer()).equals(fs.readFileSync(path.join(dist, name)))).toBe(
        true,
      );
    }
  });

  test("no other file is reachable under the prefix, whatever the spelling; the SPA is not served instead", async () => {
    const attempts = [
      `${CLERK_JS_BASE_PATH}../../package.json`,
      `${CLERK_JS_BASE_PATH}..%2f..%2fpackage.json`,
      `${CLERK_JS_BASE_PATH}${encodeAll("../package.json")}`,
      `${CLERK_JS_BASE_PATH}types/index.d.ts`,
      `${CLERK_JS_BASE_PATH}clerk.browser.js/`,
      `${CLERK_JS_BASE_PATH}CLERK.BROWSER.JS`,
      `${CLERK_JS_BASE_PATH}`,
      "/clerkjs/5.0.0/clerk.browser.js",
      "/clerkjs/clerk.browser.js",
      "/clerkjs/",
      `${CLERK_JS_BASE_PATH}..%5c..%5cpackage.json`,
    ];
    for (const attempt of attempts) {
      const { status, body } = await get(port, attempt);
      expect({ attempt, status }).toEqual({ attempt, status: 404 });
      expect(body).not.toContain("<title>spa</title>");
      expect(body).not.toContain('"name"');
    }
    const post = await fetch(`http://127.0.0.1:${port}${CLERK_JS_SCRIPT_PATH}`, { method: "POST" });
    expect(post.status).toBe(404);
  });
});

describe("the Frontend API proxy", () => {
  test("forwards /__clerk/… to the IdP with path and query unchanged, and nothing else", async () => {
    forwarded.length = 0;
    const hit = await fetch(`http://127.0.0.1:${port}/__clerk/v1/client?_clerk_js_version=5`);
    expect(await hit.json()).toEqual({ reached: "idp" });
    expect(forwarded).toEqual(["GET /__clerk/v1/client?_clerk_js_version=5"]);
    for (const other of ["/__clerkx/v1/client", "/v1/client", "/v1/dev/mailbox"]) {
      await get(port, other);
    }
    expect(forwarded).toHaveLength(1);
  });
});
