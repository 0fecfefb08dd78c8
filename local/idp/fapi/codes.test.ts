import { describe, expect, it } from "vitest";
import { SEED_PASSWORD } from "../config.ts";
import { callAsBackend, memoryLogger, startTestIdp } from "../test.idp.ts";
import { CODE_LIFETIME_MS, MAX_CODE_ATTEMPTS } from "./codes.ts";
import type { ClientWire, SignInWire, SignUpWire } from "./json.ts";
import {
  APP_ORIGIN,
  wrongCode,
  asClerk,
  attemptFirstFactor,
  expectClerkError as expectError,
  fapiClient,
  idpWithWebhooks,
  latestCode,
  readMailbox,
  type Envelope,
  type ErrorBody,
  type FapiTestClient,
} from "./test.fapi.ts";

let clock = Date.UTC(2030, 0, 1, 12, 0, 0);
const logger = memoryLogger();

async function startSignIn(fapi: FapiTestClient, identifier: string) {
  const res = await fapi.call<Envelope<SignInWire>>("POST", "/client/sign_ins", { identifier });
  expect(res.status).toBe(200);
  const signIn = asClerk.signIn(res.body.response);
  const factor = signIn.supported_first_factors.find((f) => f.strategy === "email_code");
  expect(factor).toMatchObject({ safe_identifier: identifier, primary: true });
  return { id: signIn.id, emailAddressId: (factor as { email_address_id: string }).email_address_id };
}

async function prepare(fapi: FapiTestClient, id: string, strategy: string, emailAddressId: string) {
  return fapi.call<Envelope<SignInWire>>("POST", `/client/sign_ins/${id}/prepare_first_factor`, {
    strategy,
    email_address_id: emailAddressId,
  });
}

const attempt = (fapi: FapiTestClient, id: string, strategy: string, code: string) =>
  attemptFirstFactor(fapi, id, { strategy, code });

async function signUpStart(fapi: FapiTestClient, email: string) {
  const res = await fapi.call<Envelope<SignUpWire>>("POST", "/client/sign_ups", {
    email_address: email,
    password: "long enough",
  });
  expect(res.status).toBe(200);
  return asClerk.signUp(res.body.response);
}

describe("email codes: dev mailbox, sign-up verification, sign-in by code, password reset", () => {
  const env = idpWithWebhooks({ seed: true, now: () => clock, logger });

  it("sign-up: missing_requirements, then a mailed code verifies the email and creates the user", async () => {
    const fapi = fapiClient(env.idp.url, { origin: APP_ORIGIN });
    const created = await fapi.call<Envelope<SignUpWire>>("POST", "/client/sign_ups", {
      email_address: "Coded@Example.test",
      password: "long enough",
      locale: "en-US",
    });
    expect(created.status).toBe(200);
    const signUp = asClerk.signUp(created.body.response);
    expect(signUp).toMatchObject({
      status: "missing_requirements",
      unverified_fields: ["email_address"],
      missing_fields: [],
      created_user_id: null,
      created_session_id: null,
      verifications: {
        email_address: {
          status: "unverified",
          next_action: "needs_prepare",
          supported_strategies: ["email_code"],
        },
      },
    });
    asClerk.client(created.body.client!);
    expect(created.body.client?.sessions).toEqual([]);

    // first_name comes later (PATCH continues the sign-up).
    const patched = await fapi.call<Envelope<SignUpWire>>("PATCH", `/client/sign_ups/${signUp.id}`, {
      first_name: "Cody",
    });
    expect(patched.status).toBe(200);
    expect(asClerk.signUp(patched.body.response)).toMatchObject({
      first_name: "Cody",
      status: "missing_requirements",
    });

    const prepared = await fapi.call<Envelope<SignUpWire>>(
      "POST",
      `/client/sign_ups/${signUp.id}/prepare_verification`,
      { strategy: "email_code" },
    );
    expect(prepared.status).toBe(200);
    expect(asClerk.signUp(prepared.body.response).verifications?.email_address).toMatchObject({
      status: "unverified",
      strategy: "email_code",
      next_action: "needs_attempt",
      supported_strategies: ["email_code"],
      attempts: 0,
      expire_at: clock + CODE_LIFETIME_MS,
    });
    const [mail] = await readMailbox(env.idp, "coded@example.test");
    expect(mail).toMatchObject({ purpose: "sign_up", email_address: "coded@example.test" });
    expect(mail?.code).toMatch(/^\d{6}$/);
    expect(logger.lines).toContain(
      `[idp] email code for coded@example.test: ${mail?.code} (sign-up verification)`,
    );
    // No user and no webhook before the code is entered.
    expect(env.receiver.received).toEqual([]);

    expectError(
      await fapi.call("POST", `/client/sign_ups/${signUp.id}/attempt_verification`, {
        strategy: "email_code",
        code: wrongCode(mail!.code),
      }),
      422,
      "form_code_incorrect",
      "code",
    );
    const done = await fapi.call<Envelope<SignUpWire>>(
      "POST",
      `/client/sign_ups/${signUp.id}/attempt_verification`,
      { strategy: "email_code", code: mail!.code },
    );
    expect(done.status).toBe(200);
    const complete = asClerk.signUp(done.body.response);
    expect(complete).toMatchObject({ status: "complete", unverified_fields: [], first_name: "Cody" });
    expect(complete.verifications?.email_address).toMatchObject({ status: "verified", attempts: 2 });
    const client = asClerk.client(done.body.client!) as ClientWire;
    expect(client.last_active_session_id).toBe(complete.created_session_id);
    expect(client.sessions[0]).toMatchObject({
      id: complete.created_session_id,
      status: "active",
      user: { id: complete.created_user_id, first_name: "Cody" },
    });
    await env.idp.whenDelivered(5_000);
    const events = env.receiver.received.map(
      (r) => JSON.parse(r.body) as { type: string; data: { id: string } },
    );
    // The new user's payer follows in the same lane (billing/webhooks.test.ts).
    expect(events.map((e) => e.type)).toEqual([
      "user.created",
      "subscription.created",
      "subscriptionItem.active",
      "subscription.active",
    ]);
    expect(events[0]?.data.id).toBe(complete.created_user_id);
    env.receiver.received.length = 0;

    // The code is spent; the sign-up is over.
    expectError(
      await fapi.call("POST", `/client/sign_ups/${signUp.id}/attempt_verification`, {
        strategy: "email_code",
        code: mail!.code,
      }),
      422,
      "verification_already_verified",
    );
    // The new account signs in with its password.
    const other = fapiClient(env.idp.url);
    const signIn = await other.call<Envelope<SignInWire>>("POST", "/client/sign_ins", {
      identifier: "coded@example.test",
      password: "long enough",
    });
    expect(signIn.body.response.status).toBe("complete");
  });

  it("sign-up: a taken email is form_identifier_exists; a code for another sign-up is refused", async () => {
    const fapi = fapiClient(env.idp.url);
    expectError(
      await fapi.call("POST", "/client/sign_ups", {
        email_address: "pro@gatehouse.test",
        password: "long enough",
      }),
      422,
      "form_identifier_exists",
      "email_address",
    );
    const a = await signUpStart(fapi, "first@example.test");
    const otherBrowser = fapiClient(env.idp.url);
    const b = await signUpStart(otherBrowser, "second@example.test");
    await fapi.call("POST", `/client/sign_ups/${a.id}/prepare_verification`, { strategy: "email_code" });
    await otherBrowser.call("POST", `/client/sign_ups/${b.id}/prepare_verification`, {
      strategy: "email_code",
    });
    const codeA = await latestCode(env.idp, "first@example.test");
    const codeB = await latestCode(env.idp, "second@example.test");
    if (codeA !== codeB) {
      expectError(
        await fapi.call("POST", `/client/sign_ups/${a.id}/attempt_verification`, {
          strategy: "email_code",
          code: codeB,
        }),
        422,
        "form_code_incorrect",
      );
    }
    // Another browser's sign-up is not this client's.
    expectError(
      await fapi.call("POST", `/client/sign_ups/${b.id}/attempt_verification`, {
        strategy: "email_code",
        code: codeB,
      }),
      404,
      "resource_not_found",
    );
    // Both taken meanwhile: the second to verify gets form_identifier_exists, no second user.
    const c = await signUpStart(otherBrowser, "first@example.test");
    await otherBrowser.call("POST", `/client/sign_ups/${c.id}/prepare_verification`, {
      strategy: "email_code",
    });
    const codeC = await latestCode(env.idp, "first@example.test");
    const firstDone = await fapi.call<Envelope<SignUpWire>>(
      "POST",
      `/client/sign_ups/${a.id}/attempt_verification`,
      { strategy: "email_code", code: codeA },
    );
    expect(firstDone.body.response.status).toBe("complete");
    expectError(
      await otherBrowser.call("POST", `/client/sign_ups/${c.id}/attempt_verification`, {
        strategy: "email_code",
        code: codeC,
      }),
      422,
      "form_identifier_exists",
    );
  });

  it("sign-up: too many wrong codes fail the verification; an expired code is verification_expired", async () => {
    const fapi = fapiClient(env.idp.url);
    const signUp = await signUpStart(fapi, "unlucky@example.test");
    const path = `/client/sign_ups/${signUp.id}`;
    await fapi.call("POST", `${path}/prepare_verification`, { strategy: "email_code" });
    const code = await latestCode(env.idp, "unlucky@example.test");
    for (let i = 0; i < MAX_CODE_ATTEMPTS; i++) {
      expectError(
        await fapi.call("POST", `${path}/attempt_verification`, {
          strategy: "email_code",
          code: wrongCode(code),
        }),
        422,
        "form_code_incorrect",
      );
    }
    // The right code no longer helps.
    expectError(
      await fapi.call("POST", `${path}/attempt_verification`, { strategy: "email_code", code }),
      422,
      "verification_failed",
    );
    const state = await fapi.call<Envelope<ClientWire>>("GET", "/client");
    expect(state.body.response.sign_up?.verifications.email_address).toMatchObject({
      status: "failed",
      attempts: MAX_CODE_ATTEMPTS,
    });
    // A new code starts over; ten minutes later it has expired.
    await fapi.call("POST", `${path}/prepare_verification`, { strategy: "email_code" });
    const fresh = await latestCode(env.idp, "unlucky@example.test");
    clock += CODE_LIFETIME_MS;
    expectError(
      await fapi.call("POST", `${path}/attempt_verification`, { strategy: "email_code", code: fresh }),
      422,
      "verification_expired",
      "code",
    );
    const expired = await fapi.call<Envelope<ClientWire>>("GET", "/client");
    expect(expired.body.response.sign_up?.verifications.email_address?.status).toBe("expired");
    expect(expired.body.response.sessions).toEqual([]);
  });

  it("sign-in by email code: prepare mails a code, attempt completes with a session", async () => {
    const fapi = fapiClient(env.idp.url, { origin: APP_ORIGIN });
    const { id, emailAddressId } = await startSignIn(fapi, "free@gatehouse.test");
    const prepared = await prepare(fapi, id, "email_code", emailAddressId);
    expect(prepared.status).toBe(200);
    expect(asClerk.signIn(prepared.body.response).first_factor_verification).toMatchObject({
      status: "unverified",
      strategy: "email_code",
      attempts: 0,
      expire_at: clock + CODE_LIFETIME_MS,
    });
    const [mail] = await readMailbox(env.idp, "free@gatehouse.test");
    expect(mail).toMatchObject({ purpose: "sign_in" });
    expect(logger.lines).toContain(`[idp] email code for free@gatehouse.test: ${mail?.code} (sign-in)`);
    expectError(
      await attempt(fapi, id, "email_code", wrongCode(mail!.code)),
      422,
      "form_code_incorrect",
      "code",
    );
    // A reset code is a different strategy: not prepared here.
    expectError(
      await attempt(fapi, id, "reset_password_email_code", mail!.code),
      422,
      "verification_missing",
    );
    const done = await attempt(fapi, id, "email_code", mail!.code);
    expect(done.status).toBe(200);
    const signIn = asClerk.signIn(done.body.response);
    expect(signIn).toMatchObject({ status: "complete", first_factor_verification: { status: "verified" } });
    const client = asClerk.client(done.body.client!) as ClientWire;
    expect(client.sessions.map((s) => s.id)).toEqual([signIn.created_session_id]);
    expect(client.sessions[0]?.user.email_addresses[0]?.email_address).toBe("free@gatehouse.test");
  });

  it("sign-in by code: another sign-in's code, a stale code and too many attempts are refused", async () => {
    const alice = fapiClient(env.idp.url);
    const mallory = fapiClient(env.idp.url);
    const a = await startSignIn(alice, "pro@gatehouse.test");
    const m = await startSignIn(mallory, "pro@gatehouse.test");
    await prepare(alice, a.id, "email_code", a.emailAddressId);
    const aliceCode = await latestCode(env.idp, "pro@gatehouse.test");
    await prepare(mallory, m.id, "email_code", m.emailAddressId);
    const malloryCode = await latestCode(env.idp, "pro@gatehouse.test");
    // Mallory's sign-in does not take the code mailed for Alice's (unless they collide by chance).
    if (aliceCode !== malloryCode) {
      clock += 61_000; // wrong codes count as failed sign-ins: wait out the backoff
      expectError(await attempt(mallory, m.id, "email_code", aliceCode), 422, "form_code_incorrect");
    }
    // Nor can Mallory use Alice's sign-in id.
    expectError(await attempt(mallory, a.id, "email_code", aliceCode), 404, "resource_not_found");
    // Preparing again replaces the code: the first one is stale.
    await prepare(alice, a.id, "email_code", a.emailAddressId);
    const newer = await latestCode(env.idp, "pro@gatehouse.test");
    if (newer !== aliceCode) {
      clock += 61_000; // wrong codes count as failed sign-ins: wait out the backoff
      expectError(await attempt(alice, a.id, "email_code", aliceCode), 422, "form_code_incorrect");
    }
    for (let i = newer !== aliceCode ? 1 : 0; i < MAX_CODE_ATTEMPTS; i++) {
      clock += 61_000; // wrong codes count as failed sign-ins: wait out the backoff
      expectError(await attempt(alice, a.id, "email_code", wrongCode(newer)), 422, "form_code_incorrect");
    }
    expectError(await attempt(alice, a.id, "email_code", newer), 422, "verification_failed");
    const state = await alice.call<Envelope<ClientWire>>("GET", "/client");
    expect(state.body.response.sign_in?.first_factor_verification?.status).toBe("failed");
    expect(state.body.response.sessions).toEqual([]);
    // An email_address_id of someone else is refused.
    expectError(
      await prepare(alice, a.id, "email_code", "idn_not_yours"),
      422,
      "form_param_value_invalid",
      "email_address_id",
    );
    // Expired after ten minutes.
    await prepare(alice, a.id, "email_code", a.emailAddressId);
    const last = await latestCode(env.idp, "pro@gatehouse.test");
    clock += CODE_LIFETIME_MS + 1;
    expectError(await attempt(alice, a.id, "email_code", last), 422, "verification_expired");
  });

  it("sign-in by code: wrong codes count against the email's sign-in throttle", async () => {
    const throttled = await startTestIdp({
      seed: true,
      now: () => clock,
      logger: memoryLogger(),
      signInLimits: { lockoutAfterFailures: 3, backoffAfterFailures: 100 },
    });
    try {
      const fapi = fapiClient(throttled.url);
      const { id, emailAddressId } = await startSignIn(fapi, "pro@gatehouse.test");
      await prepare(fapi, id, "email_code", emailAddressId);
      const code = await latestCode(throttled, "pro@gatehouse.test");
      for (let i = 0; i < 3; i++) {
        expectError(await attempt(fapi, id, "email_code", wrongCode(code)), 422, "form_code_incorrect");
      }
      // Locked: even the right code is refused, before it is checked.
      expectError(await attempt(fapi, id, "email_code", code), 429, "user_locked");
      const password = await attemptFirstFactor(fapi, id, { strategy: "password", password: SEED_PASSWORD });
      expectError(password, 429, "user_locked");
    } finally {
      await throttled.dispose();
    }
  });

  it("forgot password: reset code → needs_new_password → reset_password completes; the password really changes", async () => {
    const email = "reset-me@example.test";
    // An account with two sessions: one here, one in another browser.
    const setup = fapiClient(env.idp.url);
    const created = await setup.call<Envelope<SignUpWire>>("POST", "/client/sign_ups", {
      email_address: email,
      password: "old password",
    });
    const suId = created.body.response.id;
    await setup.call("POST", `/client/sign_ups/${suId}/prepare_verification`, { strategy: "email_code" });
    const suDone = await setup.call<Envelope<SignUpWire>>(
      "POST",
      `/client/sign_ups/${suId}/attempt_verification`,
      {
        strategy: "email_code",
        code: await latestCode(env.idp, email),
      },
    );
    const otherSession = suDone.body.response.created_session_id!;
    const userId = suDone.body.response.created_user_id!;
    await env.forgetWebhooks();

    const fapi = fapiClient(env.idp.url, { origin: APP_ORIGIN });
    const { id, emailAddressId } = await startSignIn(fapi, email);
    const early = await fapi.call(`POST`, `/client/sign_ins/${id}/reset_password`, {
      password: "new password 1",
    });
    expectError(early, 422, "form_param_value_invalid");
    const prepared = await prepare(fapi, id, "reset_password_email_code", emailAddressId);
    expect(prepared.status).toBe(200);
    expect(prepared.body.response.first_factor_verification).toMatchObject({
      strategy: "reset_password_email_code",
      status: "unverified",
    });
    const [mail] = await readMailbox(env.idp, email);
    expect(mail?.purpose).toBe("reset_password");
    expect(logger.lines).toContain(`[idp] email code for ${email}: ${mail?.code} (password reset)`);
    // The reset code does not sign in as an email_code.
    expectError(await attempt(fapi, id, "email_code", mail!.code), 422, "verification_missing");
    const verified = await attempt(fapi, id, "reset_password_email_code", mail!.code);
    expect(verified.status).toBe(200);
    expect(asClerk.signIn(verified.body.response)).toMatchObject({
      status: "needs_new_password",
      created_session_id: null,
      first_factor_verification: { status: "verified", strategy: "reset_password_email_code" },
    });
    expect(verified.body.client?.sessions).toEqual([]);

    expectError(
      await fapi.call("POST", `/client/sign_ins/${id}/reset_password`, { password: "short" }),
      422,
      "form_password_length_too_short",
      "password",
    );
    expectError(
      await fapi.call("POST", `/client/sign_ins/${id}/reset_password`, {
        password: "new password 1",
        sign_out_of_other_sessions: "maybe",
      }),
      422,
      "form_param_format_invalid",
      "sign_out_of_other_sessions",
    );
    const reset = await fapi.call<Envelope<SignInWire>>("POST", `/client/sign_ins/${id}/reset_password`, {
      password: "new password 1",
      sign_out_of_other_sessions: "true",
    });
    expect(reset.status).toBe(200);
    const signIn = asClerk.signIn(reset.body.response);
    expect(signIn.status).toBe("complete");
    const client = asClerk.client(reset.body.client!) as ClientWire;
    expect(client.sessions.map((s) => s.id)).toEqual([signIn.created_session_id]);

    // The other browser's session ended (sign_out_of_other_sessions).
    const otherClient = await setup.call<Envelope<ClientWire>>("GET", "/client");
    expect(otherClient.body.response.sessions.map((s) => s.id)).not.toContain(otherSession);
    const devToken = await callAsBackend(env.idp, `/v1/dev/sessions/${otherSession}/tokens`, {
      method: "POST",
    });
    expect(devToken.status).toBe(401);
    expect(((await devToken.json()) as ErrorBody).errors[0]?.code).toBe("session_not_active");

    // user.updated with the new password_last_updated_at.
    await env.idp.whenDelivered(5_000);
    const events = env.receiver.received.map(
      (r) => JSON.parse(r.body) as { type: string; data: { id: string; password_last_updated_at: number } },
    );
    expect(events.map((e) => e.type)).toEqual(["user.updated"]);
    expect(events[0]?.data).toMatchObject({ id: userId, password_last_updated_at: clock });

    // Old password refused, new one accepted, on the FAPI and the dev API.
    const check = fapiClient(env.idp.url);
    expectError(
      await check.call("POST", "/client/sign_ins", { identifier: email, password: "old password" }),
      422,
      "form_password_incorrect",
    );
    const ok = await check.call<Envelope<SignInWire>>("POST", "/client/sign_ins", {
      identifier: email,
      password: "new password 1",
    });
    expect(ok.body.response.status).toBe("complete");
    const dev = (password: string) =>
      callAsBackend(env.idp, "/v1/dev/sign_in", { json: { email, password }, origin: APP_ORIGIN });
    expect((await dev("old password")).status).toBe(401);
    expect((await dev("new password 1")).status).toBe(200);
  });

  it("the mailbox takes the secret key, is loopback-only and not behind /__clerk; bad input is a 4xx", async () => {
    const key = { Authorization: `Bearer ${env.idp.secretKey}` };
    const viaProxy = await fetch(`${env.idp.url}/__clerk/v1/dev/mailbox?email=pro@gatehouse.test`, {
      headers: key,
    });
    expect(viaProxy.status).toBe(404);
    const direct = await fetch(`${env.idp.url}/v1/dev/mailbox`, { headers: { Origin: APP_ORIGIN, ...key } });
    expect(direct.status).toBe(200);
    // No CORS: a page on another origin cannot read it.
    expect(direct.headers.get("access-control-allow-origin")).toBeNull();
    const foreign = await fetch(`${env.idp.url}/v1/dev/mailbox`, {
      headers: { Origin: "https://evil.example", ...key },
    });
    expect(foreign.status).toBe(403);
    const all = (await direct.json()) as { data: Array<{ created_at: number }>; total_count: number };
    expect(all.total_count).toBe(all.data.length);
    const times = all.data.map((m) => m.created_at);
    expect([...times].sort((x, y) => y - x)).toEqual(times); // newest first
    const tooLong = await fetch(`${env.idp.url}/v1/dev/mailbox?email=${"a".repeat(300)}`, { headers: key });
    expect(tooLong.status).toBe(422);

    const fapi = fapiClient(env.idp.url);
    const { id, emailAddressId } = await startSignIn(fapi, "pro@gatehouse.test");
    expectError(
      await prepare(fapi, id, "phone_code", emailAddressId),
      422,
      "form_param_value_invalid",
      "strategy",
    );
    expectError(
      await fapi.call("POST", `/client/sign_ins/${id}/prepare_first_factor`, {
        strategy: "email_code",
        foo: "1",
      }),
      422,
      "form_param_unknown",
    );
    expectError(await attempt(fapi, id, "email_code", ""), 422, "form_param_missing", "code");
    expectError(
      await attempt(fapi, id, "email_code", "1".repeat(100)),
      422,
      "form_param_exceeds_allowed_size",
    );
    expectError(await prepare(fapi, "sia_nope", "email_code", emailAddressId), 404, "resource_not_found");
    const su = await signUpStart(fapi, "input@example.test");
    expectError(
      await fapi.call("POST", `/client/sign_ups/${su.id}/prepare_verification`, { strategy: "phone_code" }),
      422,
      "form_param_value_invalid",
    );
    expectError(
      await fapi.call("POST", `/client/sign_ups/${su.id}/attempt_verification`, {
        strategy: "email_code",
        code: "123456",
      }),
      422,
      "verification_missing",
    );
    expectError(
      await fapi.call("PATCH", `/client/sign_ups/${su.id}`, { password: "short" }),
      422,
      "form_password_length_too_short",
    );
    expectError(
      await fapi.call("PATCH", "/client/sign_ups/sua_nope", { first_name: "x" }),
      404,
      "resource_not_found",
    );
  });
});
