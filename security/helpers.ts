/**
 * Shared fixtures for the security suite: the wired offline stack (IdP + local backend), seeded
 * sign-ins, real Convex clients, a read of every table straight from the backend's data dir, and
 * the raw JWT pieces the token attacks are built from.
 */
import { createPrivateKey, createPublicKey, createHmac, sign as rsaSign, type KeyObject } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createClerkClient } from "@clerk/backend";
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { ConvexError, type JSONValue } from "convex/values";
import { expect } from "vitest";
import WebSocket from "ws";
import { Journal } from "../local/backend/journal.ts";
import type { Backend } from "../local/backend/server.ts";
import { SEED_PASSWORD } from "../local/idp/config.ts";
import { idpClient, type SignedIn } from "../local/idp/client.ts";
import type { IdpOptions } from "../local/idp/server.ts";
import type { TestIdp } from "../local/idp/test.idp.ts";
import { startTestStack, type TestStack } from "../local/test.stack.ts";

export { SEED_PASSWORD };
export type { SignedIn, TestStack };

export const SEEDED = {
  admin: "admin@gatehouse.test",
  pro: "pro@gatehouse.test",
  free: "free@gatehouse.test",
} as const;

/** IdP + backend on ephemeral ports, wired, seeded, and every seeding webhook delivered. */
export async function startSecurityStack(idpOptions: IdpOptions = {}): Promise<TestStack> {
  const stack = await startTestStack(idpOptions);
  await stack.idp.seed();
  await whenSettled(stack.idp, stack.backend);
  return stack;
}

/**
 * Waits until the stack is quiet, so a suite's "nothing changed" baseline is not taken mid-flight:
 * every webhook delivered, no scheduled function due or running, and the tables the same for a
 * moment. One delivery round is not enough: the seed's Pro subscription schedules the plan's
 * mirror into Clerk's metadata, whose `user.updated` echo arrives after it.
 */
export async function whenSettled(
  idp: Pick<TestIdp, "whenDelivered">,
  backend: { dataDir: string },
  timeoutMs = 20_000,
): Promise<void> {
  const QUIET_MS = 300;
  const deadline = Date.now() + timeoutMs;
  let last = "";
  let sameSince = Date.now();
  for (;;) {
    await idp.whenDelivered(Math.max(1, deadline - Date.now()));
    const tables = readTables(backend);
    const now = Date.now();
    const busy = (tables["_scheduled_functions"] ?? []).some((job) => {
      const { state, scheduledTime } = job as { state?: { kind?: string }; scheduledTime?: number };
      return state?.kind === "inProgress" || (state?.kind === "pending" && (scheduledTime ?? 0) <= now);
    });
    const seen = JSON.stringify(tables);
    if (busy || seen !== last) {
      last = seen;
      sameSince = now;
    } else if (now - sameSince >= QUIET_MS) return;
    if (now > deadline) throw new Error(`the stack did not settle within ${timeoutMs} ms`);
    await sleep(50);
  }
}

export function signIn(idp: TestIdp, email: string, password = SEED_PASSWORD): Promise<SignedIn> {
  return idpClient(idp.url, { secretKey: idp.secretKey }).signIn(email, password);
}

export function clerkFor(idp: TestIdp) {
  return createClerkClient({ secretKey: idp.secretKey, apiUrl: idp.url });
}

export function newClient(url: string): ConvexClient {
  return new ConvexClient(url, {
    webSocketConstructor: WebSocket as unknown as typeof globalThis.WebSocket,
    unsavedChangesWarning: false,
    // Refusals are the point here; the client would print every one of them.
    logger: false,
  });
}

/** A ConvexClient signed in with a fixed token; resolves once the server accepted (or refused) it. */
export async function clientWithToken(
  url: string,
  token: string,
): Promise<{ client: ConvexClient; authenticated: boolean }> {
  const client = newClient(url);
  const authenticated = await new Promise<boolean>((resolve) => {
    let first = true;
    client.setAuth(
      () => Promise.resolve(token),
      (ok) => {
        if (first) {
          first = false;
          resolve(ok);
        }
      },
    );
  });
  return { client, authenticated };
}

export function httpClientWithToken(url: string, token?: string): ConvexHttpClient {
  const client = new ConvexHttpClient(url);
  if (token !== undefined) client.setAuth(token);
  return client;
}

// ---------- outcomes ----------

/** The error codes of convex/lib/errors.ts (kept literal so a rename there shows up here). */
export const ERROR_CODES = [
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "UPGRADE_REQUIRED",
  "NOT_FOUND",
  "INVALID_INPUT",
  "RATE_LIMITED",
  "UPSTREAM_ERROR",
] as const;
export type ErrorCodeName = (typeof ERROR_CODES)[number];

/**
 * How a call ended, classified:
 * - `ok`: it returned;
 * - an ErrorCode: ConvexError({ code }) from convex/lib/errors.ts;
 * - `VALIDATION`: Convex's own argument validation refused the arguments before any handler ran
 *   (the local backend reports convex-test's wording, `Validator error: …`; Convex says
 *   `ArgumentValidationError: …`; both are accepted);
 * - `NOT_PUBLIC`: `Could not find public function …` (internal or unknown function);
 * - `UNTYPED`: anything else, e.g. `Uncaught TypeError` from inside a handler — always a finding.
 */
export type Outcome = "ok" | ErrorCodeName | "VALIDATION" | "NOT_PUBLIC" | "UNTYPED";

export function classify(error: unknown): Exclude<Outcome, "ok"> {
  if (error instanceof ConvexError) {
    const code = (error.data as { code?: unknown } | null)?.code;
    return typeof code === "string" && (ERROR_CODES as readonly string[]).includes(code)
      ? (code as ErrorCodeName)
      : "UNTYPED";
  }
  const message = error instanceof Error ? error.message : String(error);
  if (/Uncaught Error: (Validator error|ArgumentValidationError)\b/.test(message)) return "VALIDATION";
  if (/ArgumentValidationError/.test(message) && !/Uncaught (Type|Reference|Range)Error/.test(message))
    return "VALIDATION";
  if (/Could not find public function/.test(message)) return "NOT_PUBLIC";
  return "UNTYPED";
}

export async function outcomeOf<T>(
  call: Promise<T>,
): Promise<{ outcome: Outcome; value?: T; error?: unknown }> {
  try {
    return { outcome: "ok", value: await call };
  } catch (error) {
    return { outcome: classify(error), error };
  }
}

/** No stack frames or file paths in text that goes back to a client. */
export function expectNoStack(text: string): void {
  expect(text).not.toMatch(/\n\s+at .+\(|\bat (file:\/\/|node:|\/)[^\s]+:\d+:\d+/);
  expect(text).not.toMatch(/\/work\/|node_modules\//);
}

// ---------- state ----------

export type Tables = Record<string, Record<string, JSONValue>[]>;

/** `000…10042posts` → `posts` (the local backend's convex-test ids). */
export function tableOf(id: string): string {
  return id.replace(/^[0-9]+/, "");
}

/**
 * Every committed document of every table (system tables included), read from the backend's
 * journal on disk (snapshot + log). The journal is appended inside each commit and synced before
 * any response leaves the server, so after a response it holds everything that response did.
 */
export function readTables(backend: { dataDir: string }): Tables {
  const { docs } = new Journal(backend.dataDir).load();
  const tables: Tables = {};
  for (const [id, doc] of [...docs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    (tables[tableOf(id)] ??= []).push(doc);
  }
  return tables;
}

export type DbState = { commits: number; tables: Tables };

export function dbState(backend: Backend): DbState {
  return { commits: backend.stats().commits, tables: readTables(backend) };
}

/** Asserts nothing was committed since `before` (no commit at all, every table identical). */
export function expectUnchanged(backend: Backend, before: DbState, tally?: Tally, label = ""): void {
  const after = dbState(backend);
  const same =
    after.commits === before.commits && JSON.stringify(after.tables) === JSON.stringify(before.tables);
  if (!same) tally?.stateChange(label);
  expect(after.commits, `${label}: commits`).toBe(before.commits);
  expect(after.tables, `${label}: tables`).toEqual(before.tables);
}

export function usersRows(backend: Backend): Record<string, JSONValue>[] {
  return readTables(backend)["users"] ?? [];
}

// ---------- JWT pieces ----------

export const b64url = (data: string | Buffer) => Buffer.from(data).toString("base64url");

export type DecodedJwt = {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  parts: [string, string, string];
};

export function decodeJwtParts(token: string): DecodedJwt {
  const [h = "", p = "", s = ""] = token.split(".");
  return {
    header: JSON.parse(Buffer.from(h, "base64url").toString("utf8")) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(p, "base64url").toString("utf8")) as Record<string, unknown>,
    parts: [h, p, s],
  };
}

/** RS256 over the exact header and payload text given (so duplicate members survive). */
export function signRs256Raw(headerJson: string, payloadJson: string, key: KeyObject): string {
  const input = `${b64url(headerJson)}.${b64url(payloadJson)}`;
  return `${input}.${rsaSign("sha256", Buffer.from(input), key).toString("base64url")}`;
}

export function signRs256(header: object, payload: object, key: KeyObject): string {
  return signRs256Raw(JSON.stringify(header), JSON.stringify(payload), key);
}

export function signHmac(
  header: object,
  payload: object,
  secret: Buffer | string,
  hash: "sha256" | "sha384" | "sha512" = "sha256",
): string {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  return `${input}.${createHmac(hash, secret).update(input).digest("base64url")}`;
}

export type IdpSigningKey = {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicJwk: JsonWebKey;
};

/** The IdP's RS256 key from its data dir (`signing-key.json`, see local/idp/keys.ts). */
export function idpSigningKey(idp: TestIdp): IdpSigningKey {
  const file = JSON.parse(fs.readFileSync(path.join(idp.dataDir, "signing-key.json"), "utf8")) as {
    kid: string;
    privateJwk: import("node:crypto").JsonWebKey;
  };
  const privateKey = createPrivateKey({ key: file.privateJwk, format: "jwk" });
  const publicKey = createPublicKey(privateKey);
  return { kid: file.kid, privateKey, publicKey, publicJwk: publicKey.export({ format: "jwk" }) };
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

// ---------- waiting ----------

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------- counting ----------

/**
 * Per-file counts for the closing note: cases run, how each ended (rejected: an attack refused;
 * held: an invariant that must hold did, e.g. a replay with no second effect; accepted: a positive
 * control; recorded: observed behaviour with no single right answer), and state changes where
 * none was allowed. `print()` writes one line and appends it, as JSON, to
 * $TMPDIR/gatehouse-security-summary.jsonl.
 */
export class Tally {
  readonly suite: string;
  rejected = 0;
  held = 0;
  accepted = 0;
  recorded = 0;
  stateChanges = 0;
  readonly notes: string[] = [];
  readonly changedCases: string[] = [];

  constructor(suite: string) {
    this.suite = suite;
  }

  get cases(): number {
    return this.rejected + this.held + this.accepted + this.recorded;
  }

  reject(n = 1): void {
    this.rejected += n;
  }
  hold(n = 1): void {
    this.held += n;
  }
  accept(n = 1): void {
    this.accepted += n;
  }
  record(note: string): void {
    this.recorded++;
    this.notes.push(note);
  }
  stateChange(label: string): void {
    this.stateChanges++;
    this.changedCases.push(label);
  }

  line(): string {
    const parts = [
      `${this.cases} cases`,
      `${this.rejected} rejected`,
      `${this.held} held`,
      `${this.accepted} positive controls accepted`,
      ...(this.recorded ? [`${this.recorded} recorded`] : []),
      `${this.stateChanges} state changes`,
    ];
    return `security/${this.suite}: ${parts.join(", ")}`;
  }

  print(): void {
    const line = this.line();
    process.stdout.write(`${line}\n`);
    for (const note of this.notes) process.stdout.write(`  recorded: ${note}\n`);
    try {
      const file = path.join(os.tmpdir(), "gatehouse-security-summary.jsonl");
      fs.appendFileSync(
        file,
        JSON.stringify({
          at: new Date().toISOString(),
          suite: this.suite,
          cases: this.cases,
          rejected: this.rejected,
          held: this.held,
          accepted: this.accepted,
          recorded: this.recorded,
          stateChanges: this.stateChanges,
          notes: this.notes,
        }) + "\n",
      );
    } catch {
      // The printed line is what matters.
    }
  }
}
