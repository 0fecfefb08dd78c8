/**
 * No request, frame or header may take the backend down: raw bytes over TCP against the CLI
 * process (as `npm start` runs it, so a crash is an exit, not a test-runner error). Every case
 * checks the answer and that the same process still serves a real client afterwards.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import {
  rawHttp,
  servingProblems,
  sleep,
  spawnBackendCli,
  statusOf,
  type CliBackend,
} from "./test.backend.ts";

let backend: CliBackend;
beforeAll(async () => {
  backend = await spawnBackendCli("malformed");
});
afterAll(() => backend?.dispose());

const UPGRADE_HEADERS =
  "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

function host(port: number): string {
  return `Host: 127.0.0.1:${port}\r\n`;
}

/** The process is alive, printed no BUG line, and answers a real client on both protocols. */
async function expectStillServing(): Promise<void> {
  expect(await servingProblems(backend)).toEqual([]);
}

test("a WebSocket upgrade whose target is not a URL gets 400, and the backend keeps serving", async () => {
  const response = await rawHttp(
    backend.port,
    `GET /\\[ HTTP/1.1\r\n${host(backend.port)}${UPGRADE_HEADERS}\r\n`,
  );
  expect(statusOf(response)).toBe(400);
  await sleep(100);
  await expectStillServing();
});

test("clients that reset the connection right after an upgrade request do not take the backend down", async () => {
  const net = await import("node:net");
  const hosts = ["evil.example", `127.0.0.1:${backend.port}`];
  await Promise.all(
    Array.from(
      { length: 40 },
      (_, i) =>
        new Promise<void>((resolve) => {
          const socket = net.connect(backend.port, "127.0.0.1", () => {
            socket.write(`GET /api/sync HTTP/1.1\r\nHost: ${hosts[i % 2]}\r\n${UPGRADE_HEADERS}\r\n`);
            socket.resetAndDestroy();
          });
          socket.on("error", () => undefined);
          socket.on("close", () => resolve());
        }),
    ),
  );
  await sleep(200);
  await expectStillServing();
});

test("a plain request whose target is not a URL gets 400 on the client and the site port", async () => {
  for (const port of [backend.port, backend.sitePort]) {
    const response = await rawHttp(port, `GET /\\[ HTTP/1.1\r\n${host(port)}Connection: close\r\n\r\n`);
    expect(statusOf(response), response).toBe(400);
    expect(response).toContain('"code":"BadRequest"');
  }
  await expectStillServing();
});

test("an http action request with a method fetch cannot carry (TRACE) gets 405, not a 500", async () => {
  for (const [port, target] of [
    [backend.sitePort, "/clerk-users-webhook"],
    [backend.port, "/http/clerk-users-webhook"],
  ] as const) {
    const response = await rawHttp(
      port,
      `TRACE ${target} HTTP/1.1\r\n${host(port)}Connection: close\r\n\r\n`,
    );
    expect(statusOf(response), response).toBe(405);
  }
  await expectStillServing();
});

test("malformed request lines, headers and JSON bodies get 400", async () => {
  const port = backend.port;
  const cases = [
    "NOT-HTTP\r\n\r\n",
    `GET / HTTP/1.1\r\n${host(port)}Bad Header\r\n\r\n`,
    `POST /api/query HTTP/1.1\r\n${host(port)}Content-Length: 5\r\nContent-Length: 7\r\n\r\n{}{}{`,
    `POST /api/query HTTP/1.1\r\n${host(port)}Content-Type: application/json\r\nContent-Length: 4\r\nConnection: close\r\n\r\n{"pa`,
    `POST /api/query HTTP/1.1\r\n${host(port)}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n`,
  ];
  for (const request of cases) {
    const response = await rawHttp(port, request);
    expect(statusOf(response), `${JSON.stringify(request)} → ${response}`).toBe(400);
  }
  await expectStillServing();
});
