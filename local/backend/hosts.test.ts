/**
 * DNS rebinding: a page on evil.example that re-resolves to 127.0.0.1 is same-origin with
 * itself, so only the Host header gives it away. Both ports and the WebSocket refuse it.
 */
import http from "node:http";
import { afterAll, beforeAll, expect, test } from "vitest";
import WebSocket from "ws";
import { startTestBackend, type TestBackend } from "./test.backend.ts";

let backend: TestBackend;
beforeAll(async () => {
  backend = await startTestBackend("hosts", { issuerUrl: "http://127.0.0.1:1" });
});
afterAll(() => backend?.dispose());

function request(port: number, path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: "POST",
        headers: { host, "content-type": "application/json" },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on("error", reject);
    req.end("{}");
  });
}

test("requests naming a non-loopback Host are refused on both ports", async () => {
  expect(await request(backend.sitePort, "/clerk-users-webhook", "evil.example:3211")).toBe(403);
  expect(await request(backend.port, "/api/query", "evil.example")).toBe(403);
  // The same requests with a loopback Host reach the server (and fail on their merits).
  expect(await request(backend.sitePort, "/clerk-users-webhook", `127.0.0.1:${backend.sitePort}`)).not.toBe(
    403,
  );
  expect(await request(backend.port, "/api/query", `localhost:${backend.port}`)).not.toBe(403);
});

test("a WebSocket upgrade naming a non-loopback Host is refused", async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${backend.port}/api/sync`, { headers: { host: "evil.example" } });
  const outcome = await new Promise<string>((resolve) => {
    ws.on("open", () => resolve("open"));
    ws.on("unexpected-response", (_req, res) => resolve(String(res.statusCode)));
    ws.on("error", () => resolve("error"));
  });
  expect(outcome).not.toBe("open");
  ws.terminate();
});
