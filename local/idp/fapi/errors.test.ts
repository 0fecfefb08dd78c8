import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SEED_PASSWORD } from "../config.ts";
import {
  callAsBackend,
  startTestIdp,
  startWebhookReceiver,
  type TestIdp,
  type WebhookReceiver,
} from "../test.idp.ts";
import type { SignInWire, UserWire } from "./json.ts";
import {
  attemptFirstFactor,
  fapiClient,
  signUpWithCode,
  type Envelope,
  type ErrorBody,
  type FapiResponse,
} from "./test.fapi.ts";

/** Clerk's error shape, and the field clerk-js renders the error under. */
function expectClerkError(res: FapiResponse<unknown>, status: number, code: string, paramName?: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toBe("application/json");
  const body = res.body as ErrorBody;
  expect(body.errors).toHaveLength(1);
  const [error] = body.errors;
  expect(error).toMatchObject({ code, message: expect.any(String), long_message: expect.any(String) });
  if (paramName) expect(error?.meta?.param_name).toBe(paramName);
  return error!;
}

describe("Frontend API errors", () => {
  let idp: TestIdp;

  beforeAll(async () => {
    idp = await startTestIdp({ seed: true });
  });
  afterAll(() => idp.dispose());

  it("answers Clerk's form errors on the fields clerk-js shows them under", async () => {
    const fapi = fapiClient(idp.url);
    expectClerkError(
      await fapi.call("POST", "/client/sign_ins", { identifier: "nobody@gatehouse.test" }),
      422,
      "form_identifier_not_found",
      "identifier",
    );
    expectClerkError(
      await fapi.call("POST", "/client/sign_ins", {
        identifier: "pro@gatehouse.test",
        password: "wrong-password",
      }),
      422,
      "form_password_incorrect",
      "password",
    );
    const created = await fapi.call<Envelope<SignInWire>>("POST", "/client/sign_ins", {
      identifier: "pro@gatehouse.test",
    });
    const signInId = created.body.response.id;
    expectClerkError(
      await attemptFirstFactor(fapi, signInId, { strategy: "password", password: "nope-nope" }),
      422,
      "form_password_incorrect",
      "password",
    );
    expectClerkError(
      // A code strategy needs a code sent first (prepare_first_factor).
      await attemptFirstFactor(fapi, signInId, { strategy: "email_code", code: "123456" }),
      422,
      "verification_missing",
      "strategy",
    );
    expectClerkError(
      await attemptFirstFactor(fapi, signInId, { strategy: "email_code", password: "x" }),
      422,
      "form_param_unknown",
      "password",
    );
    expectClerkError(
      await attemptFirstFactor(fapi, signInId, { strategy: "phone_code", password: "x" }),
      422,
      "form_param_value_invalid",
      "strategy",
    );
    expectClerkError(
      await attemptFirstFactor(fapi, signInId, { strategy: "password" }),
      422,
      "form_param_missing",
      "password",
    );
    expectClerkError(
      await fapi.call("POST", "/client/sign_ups", {
        email_address: "PRO@gatehouse.test",
        password: "long enough",
      }),
      422,
      "form_identifier_exists",
      "email_address",
    );
    expectClerkError(
      await fapi.call("POST", "/client/sign_ups", { email_address: "not-an-email", password: "long enough" }),
      422,
      "form_param_format_invalid",
      "email_address",
    );
    expectClerkError(
      await fapi.call("POST", "/client/sign_ups", { email_address: "short@example.test", password: "short" }),
      422,
      "form_password_length_too_short",
      "password",
    );
    expectClerkError(
      await fapi.call("POST", "/client/sign_ups", {
        email_address: "long@example.test",
        password: "x".repeat(73),
      }),
      422,
      "form_password_length_too_long",
      "password",
    );
    expectClerkError(
      await fapi.call("POST", "/client/sign_ups", { password: "long enough" }),
      422,
      "form_param_missing",
      "email_address",
    );
    expectClerkError(await fapi.call("PATCH", "/me", { first_name: "x" }), 401, "signed_out");
  });

  it("a failed sign-in or sign-up creates no client and sets no cookie", async () => {
    const fapi = fapiClient(idp.url);
    const res = await fapi.call("POST", "/client/sign_ins", { identifier: "nobody@gatehouse.test" });
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(fapi.jar.size).toBe(0);
  });

  it("answers bad input with a Clerk-shaped 4xx, never a 500", async () => {
    const raw = async (method: string, path: string, body?: string, headers: Record<string, string> = {}) => {
      // A browser's POST always carries the page's Origin (here the IdP's own, a loopback one).
      const withOrigin = method === "GET" ? headers : { Origin: idp.url, ...headers };
      const response = await fetch(`${idp.url}${path}`, { method, headers: withOrigin, body });
      return { status: response.status, headers: response.headers, body: (await response.json()) as unknown };
    };
    const form = { "Content-Type": "application/x-www-form-urlencoded" };
    expectClerkError(
      await raw("POST", "/__clerk/v1/client/sign_ins", "{}", { "Content-Type": "application/json" }),
      415,
      "unsupported_media_type",
    );
    expectClerkError(
      await raw("POST", "/__clerk/v1/client/sign_ins", "a".repeat(64 * 1024), form),
      413,
      "request_body_too_large",
    );
    expectClerkError(
      await raw("POST", "/__clerk/v1/client/sign_ins", "identifier=a&identifier=b", form),
      422,
      "form_param_format_invalid",
      "identifier",
    );
    expectClerkError(
      await raw("POST", "/__clerk/v1/client/sign_ins", `identifier=${"a".repeat(300)}`, form),
      422,
      "form_param_exceeds_allowed_size",
      "identifier",
    );
    expectClerkError(
      await raw("POST", "/__clerk/v1/client/sign_ins", "identifier=%E0%A4%A&%%%=1", form),
      422,
      "form_param_unknown",
    );
    expectClerkError(
      await raw(
        "POST",
        "/__clerk/v1/client/sign_ins/sia_unknown/attempt_first_factor",
        "strategy=password&password=x",
        form,
      ),
      404,
      "resource_not_found",
    );
    expectClerkError(
      await raw("POST", "/__clerk/v1/client/sessions/sess_unknown/tokens", "", form),
      401,
      "signed_out",
    );
    expectClerkError(
      await raw("POST", "/__clerk/v1/client/sessions/sess_unknown/touch", "", form),
      401,
      "signed_out",
    );
    expectClerkError(
      await raw("POST", "/__clerk/v1/client/sessions/sess_unknown/remove", "", form),
      404,
      "resource_not_found",
    );
    expectClerkError(await raw("POST", "/__clerk/v1/nothing/here", "", form), 404, "resource_not_found");
    // What UserProfile offers but the emulation lacks: its alert shows long_message, so say what is missing.
    const missing = expectClerkError(
      await raw(
        "POST",
        "/__clerk/v1/me/phone_numbers/?_clerk_session_id=sess_x",
        "phone_number=%2B15555550100",
        form,
      ),
      404,
      "resource_not_found",
    );
    expect(missing.long_message).toBe(
      "The local Clerk stand-in does not emulate POST /v1/me/phone_numbers/ yet (local/idp/README.md lists what it does).",
    );
    const deleting = expectClerkError(
      await raw("POST", "/__clerk/v1/me/totp?_method=DELETE", "", form),
      404,
      "resource_not_found",
    );
    expect(deleting.long_message).toContain("does not emulate DELETE /v1/me/totp yet");
    expectClerkError(await raw("PUT", "/__clerk/v1/client", "", form), 405, "method_not_allowed");
    expectClerkError(await raw("POST", "/__clerk/v1/client", "", form), 405, "method_not_allowed");
    expectClerkError(
      await raw("POST", "/__clerk/v1/client?_method=TRACE", "", form),
      400,
      "form_param_value_invalid",
      "_method",
    );
    expectClerkError(
      await raw("POST", "/__clerk/v1/client/sign_ins?_method=DELETE", "", form),
      405,
      "method_not_allowed",
    );
    expectClerkError(
      await raw("POST", "/__clerk/v1/client/sessions/%E0%A4%A/tokens", "", form),
      400,
      "malformed_path",
    );
    expectClerkError(await raw("GET", "/__clerk/v1/me"), 401, "signed_out");
    expectClerkError(
      await raw("GET", "/__clerk/v1/me", undefined, { Cookie: "__client=forged" }),
      401,
      "signed_out",
    );
    // The override is the Frontend API's only: the Backend API still answers a POST as a POST.
    expectClerkError(await raw("POST", "/v1/users/user_x?_method=DELETE"), 405, "method_not_allowed");
    // A cookie naming no client reads as signed out, and is cleared.
    const stale = await raw("GET", "/__clerk/v1/client", undefined, { Cookie: "__client=AAAA; other=1" });
    expect(stale.body).toEqual({ response: null, client: null });
    expect(stale.headers.getSetCookie()[0]).toMatch(/^__client=; .*Max-Age=0/);
  });

  it("answers a body sent without a content-length (chunked) the same way", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(`${idp.url}/__clerk/v1/client/sign_ins`);
      const req = request(
        url,
        {
          method: "POST",
          headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: idp.url },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.write("identifier=pro%40gatehouse.test");
      req.end();
    });
    expect(status).toBe(200);
  });
});

describe("Frontend API sign-in throttle", () => {
  let idp: TestIdp;
  let clock = Date.UTC(2030, 0, 1);

  beforeAll(async () => {
    idp = await startTestIdp({
      seed: true,
      now: () => clock,
      signInLimits: { backoffAfterFailures: Infinity, lockoutAfterFailures: 3, lockoutMs: 60 * 60 * 1000 },
    });
  });
  afterAll(() => idp.dispose());

  it("locks the account after the failures the dev API counts too: user_locked, even with the right password", async () => {
    const fapi = fapiClient(idp.url);
    const created = await fapi.call<Envelope<SignInWire>>("POST", "/client/sign_ins", {
      identifier: "pro@gatehouse.test",
    });
    const signInId = created.body.response.id;
    expectClerkError(
      await attemptFirstFactor(fapi, signInId, { strategy: "password", password: "wrong-1" }),
      422,
      "form_password_incorrect",
    );
    // A failure through the dev API counts against the same email.
    const dev = await callAsBackend(idp, "/v1/dev/sign_in", {
      json: { email: "pro@gatehouse.test", password: "wrong-2" },
    });
    expect(dev.status).toBe(401);
    expectClerkError(
      await fapi.call("POST", "/client/sign_ins", { identifier: "pro@gatehouse.test", password: "wrong-3" }),
      422,
      "form_password_incorrect",
    );

    const locked = await attemptFirstFactor(fapi, signInId, {
      strategy: "password",
      password: SEED_PASSWORD,
    });
    const error = expectClerkError(locked, 429, "user_locked");
    expect(error.meta).toMatchObject({ lockout_expires_in_seconds: 3600 });
    expect(locked.headers.get("retry-after")).toBe("3600");
    expectClerkError(
      await fapi.call("POST", "/client/sign_ins", {
        identifier: "pro@gatehouse.test",
        password: SEED_PASSWORD,
      }),
      429,
      "user_locked",
    );

    clock += 60 * 60 * 1000;
    const after = await attemptFirstFactor(fapi, signInId, { strategy: "password", password: SEED_PASSWORD });
    expect(after.status).toBe(200);
    expect(after.body.response.status).toBe("complete");
  });
});

describe("Frontend API sign-in backoff", () => {
  let idp: TestIdp;
  let clock = Date.UTC(2030, 0, 1);

  beforeAll(async () => {
    idp = await startTestIdp({
      seed: true,
      now: () => clock,
      signInLimits: { backoffAfterFailures: 2, backoffBaseMs: 1_000, lockoutAfterFailures: 100 },
    });
  });
  afterAll(() => idp.dispose());

  it("answers a backoff with too_many_requests, not user_locked (clerk-js leaves the password step for that)", async () => {
    const fapi = fapiClient(idp.url);
    const created = await fapi.call<Envelope<SignInWire>>("POST", "/client/sign_ins", {
      identifier: "free@gatehouse.test",
    });
    const signInId = created.body.response.id;
    for (const password of ["wrong-1", "wrong-2"]) {
      expectClerkError(
        await attemptFirstFactor(fapi, signInId, { strategy: "password", password }),
        422,
        "form_password_incorrect",
      );
    }
    const refused = await attemptFirstFactor(fapi, signInId, {
      strategy: "password",
      password: SEED_PASSWORD,
    });
    const error = expectClerkError(refused, 429, "too_many_requests");
    expect(error.long_message).toBe(
      "Too many failed sign-in attempts for this account. Try again in 1 second.",
    );
    expect(error.meta).toEqual({});
    expect(refused.headers.get("retry-after")).toBe("1");

    clock += 1_000;
    const after = await attemptFirstFactor(fapi, signInId, { strategy: "password", password: SEED_PASSWORD });
    expect(after.status).toBe(200);
    expect(after.body.response.status).toBe("complete");
  });
});

describe("Frontend API webhooks", () => {
  let idp: TestIdp;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    idp = await startTestIdp({ webhookUrl: receiver.url });
  });
  afterAll(async () => {
    await idp.dispose();
    await receiver.close();
  });

  it("a sign-up sends user.created and a rename user.updated, svix-signed like today's", async () => {
    const fapi = fapiClient(idp.url);
    const signUp = await signUpWithCode(fapi, idp, {
      email_address: "hooked@example.test",
      password: "long enough",
      first_name: "Hook",
    });
    const userId = signUp.body.response.created_user_id;
    const renamed = await fapi.call<Envelope<UserWire>>(
      "PATCH",
      "/me",
      { first_name: "Captain" },
      {
        _clerk_session_id: signUp.body.response.created_session_id!,
      },
    );
    expect(renamed.status).toBe(200);
    await idp.whenDelivered(5_000);
    const events = receiver.received
      .map((r) => ({
        headers: r.headers,
        body: JSON.parse(r.body) as { type: string; data: Record<string, unknown> },
      }))
      .filter((e) => e.body.type.startsWith("user.")); // billing's: billing/webhooks.test.ts
    expect(events.map((e) => e.body.type)).toEqual(["user.created", "user.updated"]);
    expect(events[0]?.body.data).toMatchObject({ id: userId, first_name: "Hook" });
    expect(events[1]?.body.data).toMatchObject({
      id: userId,
      first_name: "Captain",
      updated_at: renamed.body.response.updated_at,
    });
    for (const { headers } of events) {
      expect(headers["svix-id"]).toMatch(/^msg_/);
      expect(headers["svix-signature"]).toMatch(/^v1,/);
    }
  });
});
