import { readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { idpClient, IdpRequestError } from "./client.ts";
import { SEED_PASSWORD, SEEDED_ACCOUNTS } from "./config.ts";
import { callAsBackend, memoryLogger, startTestIdp, tempDataDir, type TestIdp } from "./test.idp.ts";

async function rejection(promise: Promise<unknown>): Promise<IdpRequestError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof IdpRequestError) return error;
    throw error;
  }
  throw new Error("expected the request to fail");
}

/** A POST to the dev API with the IdP's key (which it takes) and a raw body. */
function postJson(idp: TestIdp, path: string, body: string, contentType = "application/json") {
  return fetch(`${idp.url}${path}`, {
    method: "POST",
    headers: { "Content-Type": contentType, Authorization: `Bearer ${idp.secretKey}` },
    body,
  });
}

describe("sign-up, sign-in and sessions", () => {
  let idp: TestIdp;
  let client: ReturnType<typeof idpClient>;

  beforeAll(async () => {
    idp = await startTestIdp();
    client = idpClient(idp.url, { secretKey: idp.secretKey });
  });
  afterAll(() => idp.dispose());

  it("signs up, then signs in with the same credentials as the same user", async () => {
    const up = await client.signUp({ email: "ann@example.test", password: "s3cret-pass", firstName: "Ann" });
    expect(up.userId).toMatch(/^user_[0-9A-Za-z]{27}$/);
    expect(up.sessionId).toMatch(/^sess_[0-9A-Za-z]{27}$/);
    const signedIn = await client.signIn("ANN@example.test ", "s3cret-pass");
    expect(signedIn.userId).toBe(up.userId);
    expect(signedIn.sessionId).not.toBe(up.sessionId);
  });

  it("answers JSON with the exact content type", async () => {
    const response = await postJson(
      idp,
      "/v1/dev/sign_in",
      JSON.stringify({ email: "x@y.test", password: "z" }),
    );
    expect(response.headers.get("content-type")).toBe("application/json");
  });

  it("rejects a wrong password and an unknown email alike with 401", async () => {
    const wrong = await rejection(client.signIn("ann@example.test", "not-the-password"));
    const unknown = await rejection(client.signIn("nobody@example.test", "s3cret-pass"));
    expect([wrong.status, unknown.status]).toEqual([401, 401]);
    expect(wrong.code).toBe(unknown.code);
  });

  it("refuses a second account for the same email with 409", async () => {
    const error = await rejection(client.signUp({ email: "Ann@Example.test", password: "another-pass" }));
    expect(error.status).toBe(409);
    expect(error.code).toBe("form_identifier_exists");
  });

  it("validates sign-up input with 400 and Clerk-shaped errors", async () => {
    for (const body of [
      { email: "not-an-email", password: "long enough" },
      { email: "short@example.test", password: "short" },
      { password: "long enough" },
      { email: "a@example.test", password: 12345678 },
    ]) {
      const response = await postJson(idp, "/v1/dev/sign_up", JSON.stringify(body));
      expect(response.status).toBe(400);
      const json = (await response.json()) as {
        errors: Array<{ code: string; message: string; long_message: string }>;
      };
      expect(json.errors[0]).toMatchObject({ code: "form_param_invalid" });
      expect(json.errors[0]?.long_message).toBeTruthy();
    }
    expect((await postJson(idp, "/v1/dev/sign_up", "{not json")).status).toBe(400);
    expect((await postJson(idp, "/v1/dev/sign_up", "email=a", "text/plain")).status).toBe(415);
  });

  it("mints fresh tokens for a live session and none after sign-out", async () => {
    const { sessionId } = await client.signIn("ann@example.test", "s3cret-pass");
    const token = await client.token(sessionId);
    expect(decodeProtectedHeader(token).alg).toBe("RS256");
    await client.signOut(sessionId);
    const error = await rejection(client.token(sessionId));
    expect(error.status).toBe(401);
    await client.signOut(sessionId); // signing out twice is fine
  });

  it("answers 401 for a session that never existed", async () => {
    expect((await rejection(client.token("sess_doesnotexist"))).status).toBe(401);
  });

  it("answers unknown routes with 404 and wrong methods with 405", async () => {
    expect((await fetch(`${idp.url}/v1/dev/nothing`)).status).toBe(404);
    expect((await fetch(`${idp.url}/v1/dev/sign_in`)).status).toBe(405);
  });

  it("serves each user an avatar image", async () => {
    const { userId } = await client.signIn("ann@example.test", "s3cret-pass");
    const user = (await (await callAsBackend(idp, `/v1/users/${userId}`)).json()) as { image_url: string };
    const image = await fetch(user.image_url);
    expect(image.headers.get("content-type")).toBe("image/svg+xml");
    expect(await image.text()).toContain(">A</text>");
  });
});

describe("persistence", () => {
  const dataDir = tempDataDir();
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("keeps the signing key, users and sessions across a restart, and no plain passwords", async () => {
    const first = await startTestIdp({ dataDir });
    const before = await idpClient(first.url, { secretKey: first.secretKey }).signUp({
      email: "kept@example.test",
      password: "plain-text-pw-42",
    });
    const kidBefore = decodeProtectedHeader(before.token).kid;
    await first.close();

    const second = await startTestIdp({ dataDir });
    try {
      const client = idpClient(second.url, { secretKey: second.secretKey });
      const after = await client.signIn("kept@example.test", "plain-text-pw-42");
      expect(after.userId).toBe(before.userId);
      expect(decodeProtectedHeader(after.token).kid).toBe(kidBefore);
      // A session from before the restart still mints tokens.
      const token = await client.token(before.sessionId);
      expect(decodeProtectedHeader(token).kid).toBe(kidBefore);
      // The old token verifies against the new instance's JWKS (same key), port aside.
      const jwks = createRemoteJWKSet(new URL(`${second.url}/.well-known/jwks.json`));
      await expect(jwtVerify(before.token, jwks, { audience: "convex" })).resolves.toBeTruthy();
    } finally {
      await second.close();
    }

    for (const file of readdirSync(dataDir)) {
      const text = readFileSync(join(dataDir, file), "utf8");
      expect(text).not.toContain("plain-text-pw-42");
    }
    const state = JSON.parse(readFileSync(join(dataDir, "state.json"), "utf8")) as {
      passwords: Array<[string, { algorithm: string; salt: string; hash: string }]>;
    };
    expect(state.passwords[0]?.[1]).toMatchObject({ algorithm: "scrypt" });
  });

  it("starts empty after reset, with a new key", async () => {
    const before = await startTestIdp({ dataDir });
    const kid = decodeProtectedHeader(
      (
        await idpClient(before.url, { secretKey: before.secretKey }).signIn(
          "kept@example.test",
          "plain-text-pw-42",
        )
      ).token,
    ).kid;
    await before.close();
    const after = await startTestIdp({ dataDir, reset: true });
    try {
      expect(
        (
          await rejection(
            idpClient(after.url, { secretKey: after.secretKey }).signIn(
              "kept@example.test",
              "plain-text-pw-42",
            ),
          )
        ).status,
      ).toBe(401);
      const { keys } = (await (await fetch(`${after.url}/.well-known/jwks.json`)).json()) as {
        keys: Array<{ kid: string }>;
      };
      expect(keys[0]?.kid).not.toBe(kid);
    } finally {
      await after.close();
    }
  });
});

describe("seeding", () => {
  it("creates the three documented accounts once, with their roles and plans", async () => {
    const idp = await startTestIdp({ seed: true });
    try {
      expect(await idp.seed()).toEqual([]); // already there: nothing new
      for (const account of SEEDED_ACCOUNTS) {
        const { token } = await idpClient(idp.url, { secretKey: idp.secretKey }).signIn(
          account.email,
          SEED_PASSWORD,
        );
        const { payload } = await jwtVerify(
          token,
          createRemoteJWKSet(new URL(`${idp.url}/.well-known/jwks.json`)),
        );
        expect(payload["metadata"]).toMatchObject({ role: account.role, plan: account.plan });
      }
      expect(SEEDED_ACCOUNTS.map((a) => [a.email, a.role, a.plan, a.planOverride, a.subscription])).toEqual([
        // The admin's Pro is an administrator's grant, not a subscription (billing: Free).
        ["admin@gatehouse.test", "admin", "pro", "pro", undefined],
        // Pat's Pro is the subscription's: the metadata starts as sign-up leaves it (Gatehouse mirrors it).
        ["pro@gatehouse.test", "user", "free_user", undefined, { plan: "pro", period: "annual" }],
        ["free@gatehouse.test", "user", "free_user", undefined, undefined],
      ]);
    } finally {
      await idp.dispose();
    }
  });

  it("refuses to start in production", async () => {
    const previous = process.env.NODE_ENV;
    process.env.NODE_ENV = "production";
    try {
      await expect(startTestIdp()).rejects.toThrow(/development only/);
    } finally {
      process.env.NODE_ENV = previous;
    }
  });
});

describe("brute-force protection", () => {
  interface Answer {
    status: number;
    retryAfter: string | null;
    code: string | undefined;
    longMessage: string | undefined;
    meta: Record<string, unknown> | undefined;
  }

  async function attempt(idp: TestIdp, email: string, password: string, origin?: string): Promise<Answer> {
    const response = await callAsBackend(idp, "/v1/dev/sign_in", { json: { email, password }, origin });
    const body = (await response.json()) as {
      errors?: Array<{ code: string; long_message: string; meta: Record<string, unknown> }>;
    };
    const error = body.errors?.[0];
    return {
      status: response.status,
      retryAfter: response.headers.get("retry-after"),
      code: error?.code,
      longMessage: error?.long_message,
      meta: error?.meta,
    };
  }

  /** An IdP whose clock only moves when the test says so. */
  async function idpOnClock(options: Parameters<typeof startTestIdp>[0] = {}) {
    const clock = { t: Date.now() };
    const logger = memoryLogger();
    const idp = await startTestIdp({ now: () => clock.t, logger, ...options });
    await idpClient(idp.url, { secretKey: idp.secretKey }).signUp({
      email: "victim@example.test",
      password: "right-password",
    });
    return { idp, clock, logger };
  }

  it("refuses the right password after 40 wrong ones with 429 user_locked and Retry-After (default limits)", async () => {
    const { idp } = await idpOnClock();
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 40; i++) {
        statuses.push((await attempt(idp, "victim@example.test", `guess-${i}`)).status);
      }
      expect(statuses).toEqual([...Array<number>(5).fill(401), ...Array<number>(35).fill(429)]);
      const right = await attempt(idp, "victim@example.test", "right-password", "http://127.0.0.1:5173");
      expect(right).toEqual({
        status: 429,
        retryAfter: "1",
        code: "user_locked",
        longMessage: "Too many failed sign-in attempts for this account. Try again in 1 second.",
        meta: { lockout_expires_in_seconds: 1 },
      });
    } finally {
      await idp.dispose();
    }
  });

  it("answers a refusal as uncacheable JSON, readable by no page (the dev API grants no CORS)", async () => {
    const { idp } = await idpOnClock({ signInLimits: { backoffAfterFailures: 1 } });
    try {
      await attempt(idp, "victim@example.test", "wrong");
      const response = await callAsBackend(idp, "/v1/dev/sign_in", {
        json: { email: "victim@example.test", password: "right-password" },
        origin: "http://127.0.0.1:5173",
      });
      expect(response.status).toBe(429);
      expect(response.headers.get("access-control-allow-origin")).toBeNull();
      expect(response.headers.get("content-type")).toBe("application/json");
      expect(response.headers.get("cache-control")).toBe("no-store");
    } finally {
      await idp.dispose();
    }
  });

  it("backs off, locks, logs the lockout, and lets the right password in once the lock has passed", async () => {
    const { idp, clock, logger } = await idpOnClock({
      signInLimits: { backoffAfterFailures: 3, lockoutAfterFailures: 5, lockoutMs: 10 * 60_000 },
    });
    try {
      const wrong = () => attempt(idp, "victim@example.test", "wrong-password");
      const right = () => attempt(idp, "Victim@Example.test", "right-password");
      for (let i = 0; i < 3; i++) expect((await wrong()).status).toBe(401);
      expect(await right()).toMatchObject({ status: 429, code: "user_locked", retryAfter: "1" });
      clock.t += 1_000;
      expect((await wrong()).status).toBe(401); // the 4th failure: the next wait is 2 s
      clock.t += 1_000;
      expect(await right()).toMatchObject({ status: 429, retryAfter: "1" });
      clock.t += 1_000;
      expect((await wrong()).status).toBe(401); // the 5th: locked for 10 minutes
      expect(await right()).toEqual({
        status: 429,
        retryAfter: "600",
        code: "user_locked",
        longMessage:
          "This account is locked after too many failed sign-in attempts. Try again in 10 minutes.",
        meta: { lockout_expires_in_seconds: 600 },
      });
      expect(logger.lines.filter((l) => l.includes("locked"))).toEqual([
        '[idp] sign-in for "victim@example.test" locked for 10 minutes after 5 failed attempts (client loopback)',
      ]);
      clock.t += 10 * 60_000 - 1_000;
      expect(await right()).toMatchObject({ status: 429, retryAfter: "1" });
      clock.t += 1_000;
      const { sessionId } = await idpClient(idp.url, { secretKey: idp.secretKey }).signIn(
        "victim@example.test",
        "right-password",
      );
      expect(logger.lines.join("\n")).not.toMatch(/right-password|wrong-password|sess_/);
      expect(sessionId).toMatch(/^sess_/);
      // The success cleared the count: two more failures are plain 401s again.
      expect([(await wrong()).status, (await wrong()).status]).toEqual([401, 401]);
    } finally {
      await idp.dispose();
    }
  });

  it("limits each client across many emails, existing or not, with 429 too_many_requests", async () => {
    const { idp, clock } = await idpOnClock({ signInLimits: { clientBurst: 4, clientRefillMs: 60_000 } });
    try {
      const client = idpClient(idp.url, { secretKey: idp.secretKey });
      for (let i = 0; i < 10; i++) await client.signIn("victim@example.test", "right-password"); // free
      const emails = ["victim@example.test", "nobody1@example.test", "nobody2@example.test", "x@y.test"];
      for (const email of emails) expect((await attempt(idp, email, "wrong")).status).toBe(401);
      for (const email of ["fresh@example.test", "victim@example.test"]) {
        expect(
          await attempt(idp, email, email === "fresh@example.test" ? "wrong" : "right-password"),
        ).toEqual({
          status: 429,
          retryAfter: "60",
          code: "too_many_requests",
          longMessage: "Too many failed sign-in attempts from this client. Try again in 60 seconds.",
          meta: {},
        });
      }
      clock.t += 60_000;
      expect((await attempt(idp, "victim@example.test", "right-password")).status).toBe(200);
    } finally {
      await idp.dispose();
    }
  });

  it("throttles an unknown email exactly like an existing one, so answers do not reveal accounts", async () => {
    const { idp, clock } = await idpOnClock({
      signInLimits: { backoffAfterFailures: 2, lockoutAfterFailures: 4 },
    });
    try {
      const run = async (email: string) => {
        const answers: Answer[] = [];
        for (let i = 0; i < 6; i++) {
          answers.push(await attempt(idp, email, "wrong-password"));
          clock.t += 1_000;
        }
        return answers;
      };
      const existing = await run("victim@example.test");
      const unknown = await run("nobody@example.test");
      expect(unknown).toEqual(existing);
      // 1 s apart: two failures, a third once the 1 s backoff is over, a refusal during the 2 s one,
      // the fourth failure (the lockout), then the lockout's refusal.
      expect(existing.map((a) => [a.status, a.code, a.retryAfter])).toEqual([
        [401, "form_password_incorrect", null],
        [401, "form_password_incorrect", null],
        [401, "form_password_incorrect", null],
        [429, "user_locked", "1"],
        [401, "form_password_incorrect", null],
        [429, "user_locked", "3599"],
      ]);
    } finally {
      await idp.dispose();
    }
  });
});
