import { describe, expect, it } from "vitest";
import { callAsBackend, startTestIdp } from "./test.idp.ts";
import {
  clientKey,
  DEFAULT_SIGN_IN_LIMITS,
  describeWait,
  refusalResult,
  SignInThrottle,
  type Admission,
  type SignInLimits,
} from "./throttle.ts";

/** A throttle on a clock the test moves, with a logger that keeps its lines. */
function throttle(limits: Partial<SignInLimits> = {}) {
  const clock = { t: 1_000_000 };
  const lines: string[] = [];
  const t = new SignInThrottle(limits, () => clock.t, { warn: (line: string) => lines.push(line) });
  return { t, clock, lines };
}

/** One attempt settled at once: "ok" / "fail" when admitted, else the refusal's reason and wait. */
function attempt(t: SignInThrottle, email: string, outcome: "ok" | "fail", client = "loopback") {
  const admission: Admission = t.admit(email, client);
  if (!admission.admitted) return admission.refusal;
  if (outcome === "ok") admission.attempt.succeeded();
  else admission.attempt.failed();
  return outcome;
}

describe("per-account backoff and lockout", () => {
  it("lets 5 failures through, then doubles the wait from 1 s up to the cap", () => {
    const { t, clock } = throttle({ backoffMaxMs: 8_000, clientBurst: Infinity });
    for (let i = 0; i < 5; i++) expect(attempt(t, "a@x.test", "fail")).toBe("fail");
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      const refusal = attempt(t, "a@x.test", "fail");
      expect(refusal).toMatchObject({ reason: "account_backoff" });
      const wait = (refusal as { retryAfterMs: number }).retryAfterMs;
      waits.push(wait);
      clock.t += wait - 1;
      expect(attempt(t, "a@x.test", "ok")).toMatchObject({ reason: "account_backoff", retryAfterMs: 1 });
      clock.t += 1;
      expect(attempt(t, "a@x.test", "fail")).toBe("fail");
    }
    expect(waits).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
  });

  it("locks after lockoutAfterFailures, refuses even the right password, and unlocks with a fresh count", () => {
    const { t, clock, lines } = throttle({
      backoffAfterFailures: Infinity,
      lockoutAfterFailures: 10,
      lockoutMs: 60_000,
      clientBurst: Infinity,
    });
    for (let i = 0; i < 10; i++) expect(attempt(t, "a@x.test", "fail")).toBe("fail");
    expect(lines).toEqual([
      '[idp] sign-in for "a@x.test" locked for 60 seconds after 10 failed attempts (client loopback)',
    ]);
    clock.t += 59_999;
    expect(attempt(t, "A@X.test ", "ok")).toEqual({ reason: "account_locked", retryAfterMs: 1 });
    clock.t += 1;
    // After the lockout the count starts again: 9 failures do not lock it.
    for (let i = 0; i < 9; i++) expect(attempt(t, "a@x.test", "fail")).toBe("fail");
    expect(attempt(t, "a@x.test", "ok")).toBe("ok");
    expect(lines).toHaveLength(1);
  });

  it("resets the count on a success", () => {
    const { t } = throttle({ backoffAfterFailures: 3, clientBurst: Infinity });
    for (let round = 0; round < 5; round++) {
      expect(attempt(t, "a@x.test", "fail")).toBe("fail");
      expect(attempt(t, "a@x.test", "fail")).toBe("fail");
      expect(attempt(t, "a@x.test", "ok")).toBe("ok");
    }
    expect(t.size.emails).toBe(0);
  });

  it("forgets failures after failureWindowMs without one", () => {
    const { t, clock } = throttle({
      backoffAfterFailures: 3,
      failureWindowMs: 10_000,
      clientBurst: Infinity,
    });
    expect(attempt(t, "a@x.test", "fail")).toBe("fail");
    expect(attempt(t, "a@x.test", "fail")).toBe("fail");
    clock.t += 10_000;
    expect(attempt(t, "a@x.test", "fail")).toBe("fail");
    expect(attempt(t, "a@x.test", "fail")).toBe("fail");
    expect(attempt(t, "a@x.test", "fail")).toBe("fail"); // the third within the window: backoff next
    expect(attempt(t, "a@x.test", "fail")).toMatchObject({ reason: "account_backoff" });
  });

  it("counts attempts in flight, so concurrent guesses cannot pass the limit while scrypt runs", () => {
    const { t } = throttle({ backoffAfterFailures: 5, clientBurst: Infinity });
    const admissions = Array.from({ length: 40 }, () => t.admit("a@x.test", "loopback"));
    const admitted = admissions.filter((a) => a.admitted);
    expect(admitted).toHaveLength(5);
    for (const a of admitted) a.attempt.failed();
    expect(attempt(t, "a@x.test", "ok")).toMatchObject({ reason: "account_backoff" });
  });

  it("still counts a failure that finished after a concurrent success reset the count", () => {
    const { t } = throttle({ backoffAfterFailures: 2, clientBurst: Infinity });
    const wrong = t.admit("a@x.test", "loopback");
    const right = t.admit("a@x.test", "loopback");
    if (!wrong.admitted || !right.admitted) throw new Error("both should be admitted");
    right.attempt.succeeded();
    wrong.attempt.failed();
    expect(attempt(t, "a@x.test", "fail")).toBe("fail"); // the second failure since the reset
    expect(attempt(t, "a@x.test", "fail")).toMatchObject({ reason: "account_backoff" });
  });
});

describe("per-client token bucket", () => {
  it("spends one attempt per failure across any emails, refills one per clientRefillMs, refunds successes", () => {
    const { t, clock, lines } = throttle({ clientBurst: 5, clientRefillMs: 2_000 });
    for (let i = 0; i < 20; i++) expect(attempt(t, "real@x.test", "ok")).toBe("ok"); // successes cost nothing
    for (let i = 0; i < 5; i++) expect(attempt(t, `stranger${i}@x.test`, "fail")).toBe("fail");
    expect(attempt(t, "fresh@x.test", "fail")).toEqual({ reason: "client", retryAfterMs: 2_000 });
    expect(attempt(t, "real@x.test", "ok")).toEqual({ reason: "client", retryAfterMs: 2_000 });
    expect(attempt(t, "fresh@x.test", "fail", "10.0.0.2")).toBe("fail"); // another client is not affected
    expect(lines).toEqual([
      "[idp] sign-in attempts from client loopback throttled: 5 attempts used up, one more allowed every 2 seconds",
    ]);
    clock.t += 1_500;
    expect(attempt(t, "fresh@x.test", "fail")).toEqual({ reason: "client", retryAfterMs: 500 });
    clock.t += 500;
    expect(attempt(t, "fresh@x.test", "fail")).toBe("fail");
    expect(attempt(t, "other@x.test", "fail")).toMatchObject({ reason: "client" });
    expect(lines).toHaveLength(2); // logged once per dry spell
  });

  it("answers the longer wait when both the account and the client refuse", () => {
    const { t } = throttle({
      backoffAfterFailures: 1,
      backoffBaseMs: 30_000,
      clientBurst: 1,
      clientRefillMs: 1_000,
    });
    expect(attempt(t, "a@x.test", "fail")).toBe("fail");
    expect(attempt(t, "a@x.test", "fail")).toEqual({ reason: "account_backoff", retryAfterMs: 30_000 });
    expect(attempt(t, "b@x.test", "fail")).toEqual({ reason: "client", retryAfterMs: 1_000 });
  });

  it("treats every loopback address as one client, and IPv4-mapped addresses as IPv4", () => {
    expect(["127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1"].map(clientKey)).toEqual(
      Array(4).fill("loopback"),
    );
    expect(clientKey("::ffff:10.1.2.3")).toBe("10.1.2.3");
    expect(clientKey(undefined)).toBe("unknown");
  });
});

describe("bounded memory", () => {
  it("tracks at most maxTrackedEmails emails however many a stranger sprays", () => {
    const { t } = throttle({ maxTrackedEmails: 100, clientBurst: Infinity });
    for (let i = 0; i < 20_000; i++) attempt(t, `${Math.random().toString(36).slice(2)}@spray.test`, "fail");
    expect(t.size.emails).toBe(100);
  });

  it("tracks at most maxTrackedClients clients", () => {
    const { t } = throttle({ maxTrackedClients: 50 });
    for (let i = 0; i < 5_000; i++) attempt(t, `u${i}@x.test`, "fail", `10.0.${i >> 8}.${i & 255}`);
    expect(t.size.clients).toBe(50);
  });

  it("sweeps out entries that have expired, without waiting for the cap", () => {
    const { t, clock } = throttle({ failureWindowMs: 10_000, clientRefillMs: 100 });
    for (let i = 0; i < 500; i++) attempt(t, `user${i}@x.test`, "fail", `10.0.0.${i % 200}`);
    expect(t.size).toEqual({ emails: 500, clients: 200 });
    clock.t += 60_000;
    attempt(t, "late@x.test", "ok", "10.9.9.9");
    expect(t.size).toEqual({ emails: 0, clients: 0 });
  });
});

describe("the 429 answer", () => {
  it("is Clerk-shaped: user_locked with lockout_expires_in_seconds, too_many_requests, Retry-After", () => {
    expect(refusalResult({ reason: "account_locked", retryAfterMs: 3_599_001 })).toEqual({
      status: 429,
      headers: { "Retry-After": "3600" },
      body: {
        errors: [
          {
            code: "user_locked",
            message: "Account locked. Try again in 60 minutes.",
            long_message:
              "This account is locked after too many failed sign-in attempts. Try again in 60 minutes.",
            meta: { lockout_expires_in_seconds: 3600 },
          },
        ],
      },
    });
    expect(refusalResult({ reason: "account_backoff", retryAfterMs: 1 }).headers).toEqual({
      "Retry-After": "1",
    });
    expect(refusalResult({ reason: "client", retryAfterMs: 1_500 }).body).toEqual({
      errors: [
        {
          code: "too_many_requests",
          message: "Too many sign-in attempts. Try again in 2 seconds.",
          long_message: "Too many failed sign-in attempts from this client. Try again in 2 seconds.",
          meta: {},
        },
      ],
    });
    expect([1, 1_000, 59_001, 119_000, 120_000, 7_200_000, 7_200_001].map(describeWait)).toEqual([
      "1 second",
      "1 second",
      "60 seconds",
      "119 seconds",
      "2 minutes",
      "2 hours",
      "3 hours",
    ]);
  });

  it("answers in Clerk's error shape, whose long message Clerk's sign-in form shows", async () => {
    const idp = await startTestIdp({ signInLimits: { backoffAfterFailures: 1, backoffBaseMs: 30_000 } });
    try {
      const post = () =>
        callAsBackend(idp, "/v1/dev/sign_in", { json: { email: "a@x.test", password: "wrong-password" } });
      await post();
      const refused = await post();
      const body = (await refused.json()) as { errors: { long_message: string }[] };
      expect(refused.status).toBe(429);
      expect(body.errors[0]!.long_message).toBe(
        "Too many failed sign-in attempts for this account. Try again in 30 seconds.",
      );
    } finally {
      await idp.dispose();
    }
  });

  it("rejects nonsensical limits when the IdP starts", async () => {
    await expect(startTestIdp({ signInLimits: { lockoutAfterFailures: 0.5 } })).rejects.toThrow(
      /lockoutAfterFailures/,
    );
    expect(() => new SignInThrottle({ backoffAfterFailures: 0 })).toThrow(/backoffAfterFailures/);
    expect(() => new SignInThrottle({ clientRefillMs: 0 })).toThrow(/clientRefillMs/);
    expect(() => new SignInThrottle({ maxTrackedEmails: Infinity })).toThrow(/maxTrackedEmails/);
    expect(() => new SignInThrottle({ lockoutMs: -1 })).toThrow(/lockoutMs/);
    expect(new SignInThrottle({ lockoutMs: undefined }).limits).toEqual(DEFAULT_SIGN_IN_LIMITS);
  });
});
