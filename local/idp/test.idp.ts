/**
 * Test helpers: an IdP on an ephemeral port with a throw-away data dir and fast retries, and a
 * webhook receiver that records what arrives. For the IdP's own tests and for the local
 * backend's tests that need real tokens and webhooks.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually } from "../test.eventually.ts";
import { startIdp, type Idp, type IdpOptions } from "./server.ts";
import type { Logger } from "./webhooks/delivery.ts";

export { eventually };

/** Fast retries for tests: 50 ms, 100 ms, 200 ms (then 200 ms), 6 attempts. */
export const TEST_RETRY = { retryDelaysMs: [50, 100, 200], maxAttempts: 6 } as const;

export function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), "gatehouse-idp-"));
}

/** A logger that keeps lines instead of printing them (delivery failures are expected in tests). */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (...args: unknown[]) => {
    lines.push(args.map(String).join(" "));
  };
  return { lines, info: keep, warn: keep, error: keep };
}

export interface TestIdp extends Idp {
  /** Closes the IdP and deletes its data dir (unless it was given one). */
  dispose(): Promise<void>;
}

/** An IdP on port 0 with a temp data dir and TEST_RETRY; any option can be overridden. */
export async function startTestIdp(options: IdpOptions = {}): Promise<TestIdp> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? tempDataDir();
  let idp: Idp;
  try {
    idp = await startIdp({ port: 0, logger: memoryLogger(), ...TEST_RETRY, ...options, dataDir });
  } catch (error) {
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  return Object.assign(idp, {
    dispose: async () => {
      await idp.close();
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  });
}

/**
 * A call to the IdP's Backend API or dev API (`/v1/…`) with its secret key, as the app's backend
 * makes it: a GET, or with `json` a POST (or `method`) of that JSON body. `origin` adds the
 * `Origin` header a page's fetch would carry.
 */
export function callAsBackend(
  idp: { url: string; secretKey: string },
  path: string,
  options: { method?: "GET" | "POST" | "PATCH" | "DELETE"; json?: unknown; origin?: string } = {},
): Promise<Response> {
  const headers: Record<string, string> = { Authorization: `Bearer ${idp.secretKey}` };
  if (options.json !== undefined) headers["Content-Type"] = "application/json";
  if (options.origin) headers["Origin"] = options.origin;
  return fetch(`${idp.url}${path}`, {
    method: options.method ?? (options.json === undefined ? "GET" : "POST"),
    headers,
    body: options.json === undefined ? undefined : JSON.stringify(options.json),
  });
}

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  /** The status the receiver answered. */
  status: number;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** Decides each answer from the request's number (counting from 1) and body. Default: always 200. */
  respond: (requestNumber: number, body: string) => number;
  /** Resolves once `predicate` holds for the received list (polled), rejects after timeoutMs. */
  waitFor(predicate: (received: ReceivedWebhook[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** A loopback HTTP server standing in for the backend's /clerk-users-webhook. */
export async function startWebhookReceiver(port = 0): Promise<WebhookReceiver> {
  const receiver: WebhookReceiver = {
    url: "",
    received: [],
    respond: () => 200,
    waitFor: (predicate, timeoutMs) => eventually(() => predicate(receiver.received), timeoutMs),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const status = receiver.respond(receiver.received.length + 1, body);
      receiver.received.push({ headers: req.headers, body, status });
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/clerk-users-webhook`;
  return receiver;
}
