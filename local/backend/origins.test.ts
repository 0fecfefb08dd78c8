/**
 * Which browser pages may use the backend: pages served from this machine (loopback origins, any
 * port) and the origins in LOCAL_CONVEX_ALLOWED_ORIGINS. Any other page gets no CORS headers and a
 * 403, on the HTTP API and on the WebSocket upgrade alike; clients that send no Origin (Node) are
 * unaffected. Runs the CLI so the environment variable is read as `npm start` would pass it.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import WebSocket from "ws";
import { spawnBackendCli, type CliBackend } from "./test.backend.ts";

const CONFIGURED = "https://app.gatehouse.test";
const LOOPBACK = ["http://localhost:5173", "http://127.0.0.1:4999", "https://[::1]:8443"];
const FOREIGN = ["https://evil.example", "http://localhost.evil.example:5173", "null", "not a url"];

let backend: CliBackend;
beforeAll(async () => {
  backend = await spawnBackendCli("origins", {
    env: { LOCAL_CONVEX_ALLOWED_ORIGINS: `${CONFIGURED}, http://other.gatehouse.test:8080` },
  });
});
afterAll(() => backend?.dispose());

function query(origin: string | undefined): Promise<Response> {
  return fetch(`${backend.url}/api/query`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(origin !== undefined ? { origin } : {}) },
    body: JSON.stringify({ path: "users:me", args: {}, format: "convex_encoded_json" }),
  });
}

function preflight(origin: string): Promise<Response> {
  return fetch(`${backend.url}/api/mutation`, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type,convex-client",
    },
  });
}

/** "open", or the HTTP status the upgrade was refused with. */
function upgrade(origin: string | undefined): Promise<string> {
  const ws = new WebSocket(`${backend.url.replace("http", "ws")}/api/1.48.0/sync`, {
    ...(origin !== undefined ? { origin } : {}),
  });
  return new Promise<string>((resolve) => {
    ws.on("open", () => resolve("open"));
    ws.on("unexpected-response", (_req, res) => resolve(String(res.statusCode)));
    ws.on("error", (error) => resolve(`error: ${error.message}`));
  }).finally(() => ws.terminate());
}

test("loopback and configured origins are mirrored with credentials, on the preflight and the call", async () => {
  for (const origin of [...LOOPBACK, CONFIGURED, "http://other.gatehouse.test:8080"]) {
    const pre = await preflight(origin);
    expect(pre.status, origin).toBe(204);
    expect(pre.headers.get("access-control-allow-origin"), origin).toBe(origin);
    expect(pre.headers.get("access-control-allow-credentials"), origin).toBe("true");
    const res = await query(origin);
    expect(res.status, origin).toBe(200);
    expect(res.headers.get("access-control-allow-origin"), origin).toBe(origin);
    expect(await res.json()).toEqual({ status: "success", value: null });
  }
});

test("a foreign origin gets 403 and no CORS headers, on the preflight and the call", async () => {
  for (const origin of FOREIGN) {
    const pre = await preflight(origin);
    expect(pre.status, origin).toBe(403);
    expect(pre.headers.get("access-control-allow-origin"), origin).toBeNull();
    expect(pre.headers.get("access-control-allow-credentials"), origin).toBeNull();
    const res = await query(origin);
    expect(res.status, origin).toBe(403);
    expect(res.headers.get("access-control-allow-origin"), origin).toBeNull();
    expect(await res.json()).toMatchObject({ code: "Forbidden" });
  }
});

test("a request without an Origin header (a Node client) is served, without CORS headers", async () => {
  const res = await query(undefined);
  expect(res.status).toBe(200);
  expect(res.headers.get("access-control-allow-origin")).toBeNull();
  expect(await res.json()).toEqual({ status: "success", value: null });
});

test("a WebSocket upgrade from a foreign origin gets 403 and no socket; loopback, configured or no origin opens", async () => {
  for (const origin of FOREIGN) expect(await upgrade(origin), origin).toBe("403");
  expect(backend.alive()).toBe(true);
  for (const origin of [...LOOPBACK, CONFIGURED, undefined])
    expect(await upgrade(origin), origin).toBe("open");
});

test("a malformed LOCAL_CONVEX_ALLOWED_ORIGINS stops startup with a line naming the entry", async () => {
  await expect(
    spawnBackendCli("origins-bad", { env: { LOCAL_CONVEX_ALLOWED_ORIGINS: "http://ok.test, evil.example" } }),
  ).rejects.toThrow(
    /local backend: LOCAL_CONVEX_ALLOWED_ORIGINS: "evil\.example" is not an http\(s\) origin/,
  );
});
