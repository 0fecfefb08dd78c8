import { createRemoteJWKSet, decodeJwt, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SEED_PASSWORD } from "../config.ts";
import { rmSync } from "node:fs";
import { startTestIdp, tempDataDir, type TestIdp } from "../test.idp.ts";
import type { EnvironmentWire } from "./environment.ts";
import type {
  ClientWire,
  SessionWire,
  SessionWithActivitiesWire,
  SignInWire,
  TokenWire,
  UserWire,
} from "./json.ts";
import {
  APP_ORIGIN,
  asClerk,
  fapiClient,
  signUpWithCode,
  type Envelope,
  type ErrorBody,
} from "./test.fapi.ts";

let clock = Date.UTC(2030, 0, 1, 12, 0, 0);

/** The fields clerk-js was seen to need (read off clerk-js 5.128.0), checked at run time. */
function expectNeededClient(client: ClientWire | null): asserts client is ClientWire {
  asClerk.client(client!);
  expect(client).toMatchObject({ object: "client", id: expect.stringMatching(/^client_/) });
  expect(Array.isArray(client!.sessions)).toBe(true);
  expect(client).toHaveProperty("last_active_session_id");
  expect(client).toHaveProperty("sign_in");
  expect(client).toHaveProperty("sign_up");
}

function expectNeededSession(session: SessionWire | undefined): asserts session is SessionWire {
  asClerk.session(session!);
  expect(session).toMatchObject({ object: "session", status: "active", user: { object: "user" } });
  const claims = decodeJwt(session!.last_active_token!.jwt);
  // clerk-js caches a token only with iat; exp - iat is its lifetime.
  expect(claims.exp! - claims.iat!).toBe(60);
}

describe("Frontend API flows (what clerk-js 5.128.0 calls)", () => {
  let idp: TestIdp;

  beforeAll(async () => {
    idp = await startTestIdp({ seed: true, now: () => clock });
  });
  afterAll(() => idp.dispose());

  it("loads signed out: environment (GET and dev PATCH) and a null client", async () => {
    const fapi = fapiClient(idp.url);
    for (const method of ["GET", "PATCH"] as const) {
      const env = await fapi.call<Envelope<EnvironmentWire>>(method, "/environment");
      expect(env.status).toBe(200);
      expect(env.headers.get("content-type")).toBe("application/json");
      const e = asClerk.environment(env.body.response);
      expect(e.auth_config.single_session_mode).toBe(true);
      expect(e.auth_config.reverification).toBe(false);
      // A billing section missing any of these makes clerk-js degrade. Billing
      // for users, no Stripe key (saved test cards only: billing/cards.ts).
      expect(e.commerce_settings.billing).toEqual({
        stripe_publishable_key: null,
        organization: { enabled: false, has_paid_plans: false },
        user: { enabled: true, has_paid_plans: true },
      });
      expect(e.user_settings.attributes.password).toMatchObject({ enabled: true, required: true });
      expect(e.user_settings.attributes.email_address).toMatchObject({
        enabled: true,
        verify_at_sign_up: true,
      });
      expect(e.user_settings.attributes.first_name.enabled).toBe(true);
      expect(e.display_config.application_name).toBe("Gatehouse");
      expect(e.display_config.captcha_public_key).toBeNull();
      expect(e.protect_config.loaders).toEqual([]);
    }
    const client = await fapi.call<Envelope<ClientWire | null>>("GET", "/client");
    expect(client.status).toBe(200);
    expect(client.body).toEqual({ response: null, client: null });
    expect(client.headers.getSetCookie()).toEqual([]);
  });

  it("4.2 two-step sign-in: identifier, then password; sets an httpOnly __client cookie", async () => {
    const fapi = fapiClient(idp.url, { origin: APP_ORIGIN });
    const created = await fapi.call<Envelope<SignInWire>>("POST", "/client/sign_ins", {
      locale: "en-US",
      identifier: "pro@gatehouse.test",
    });
    expect(created.status).toBe(200);
    const signIn = asClerk.signIn(created.body.response);
    expect(signIn).toMatchObject({ status: "needs_first_factor", created_session_id: null });
    const email = { safe_identifier: "pro@gatehouse.test", primary: true };
    expect(signIn.supported_first_factors).toEqual([
      { strategy: "password" },
      { strategy: "email_code", email_address_id: expect.stringMatching(/^idn_/), ...email },
      { strategy: "reset_password_email_code", email_address_id: expect.stringMatching(/^idn_/), ...email },
    ]);
    const [cookie = ""] = created.headers.getSetCookie();
    expect(cookie).toMatch(/^__client=[A-Za-z0-9_-]{43};/);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Lax");
    expect(cookie).toContain("Path=/");
    expect(cookie).toContain(`Max-Age=${30 * 24 * 3600}`);
    // The cookie is not the client id, which page scripts see.
    expectNeededClient(created.body.client);
    expect(cookie).not.toContain(created.body.client.id);
    expect(created.body.client.sign_in?.id).toBe(signIn.id);

    const attempt = await fapi.call<Envelope<SignInWire>>(
      "POST",
      `/client/sign_ins/${signIn.id}/attempt_first_factor`,
      { strategy: "password", password: SEED_PASSWORD },
    );
    expect(attempt.status).toBe(200);
    const done = attempt.body.response;
    expect(done.status).toBe("complete");
    expect(done.created_session_id).toMatch(/^sess_/);
    const client = attempt.body.client;
    expectNeededClient(client);
    expect(client.last_active_session_id).toBe(done.created_session_id);
    expect(client.sessions).toHaveLength(1);
    expectNeededSession(client.sessions[0]);
    expect(client.sessions[0].user.email_addresses[0]?.email_address).toBe("pro@gatehouse.test");

    // Touch (select_session), then the next page load finds the session through the cookie.
    const touch = await fapi.call<Envelope<SessionWire>>(
      "POST",
      `/client/sessions/${done.created_session_id}/touch`,
      {
        active_organization_id: "",
        intent: "select_session",
      },
    );
    expect(touch.status).toBe(200);
    expectNeededSession(touch.body.response);
    const reload = await fapi.call<Envelope<ClientWire | null>>("GET", "/client");
    expectNeededClient(reload.body.response);
    expect(reload.body.response.sessions.map((s) => s.id)).toEqual([done.created_session_id]);
    expect(reload.body.client).toBeNull();
  });

  it("4.2 one-step sign-in (password manager): identifier and password in the create call", async () => {
    const fapi = fapiClient(idp.url);
    const res = await fapi.call<Envelope<SignInWire>>("POST", "/client/sign_ins", {
      locale: "en-US",
      identifier: "FREE@gatehouse.test",
      password: SEED_PASSWORD,
      strategy: "password",
    });
    expect(res.status).toBe(200);
    expect(res.body.response.status).toBe("complete");
    expectNeededClient(res.body.client);
    expect(res.body.client.sessions[0]?.id).toBe(res.body.response.created_session_id);
  });

  it("4.3 sign-up completes with the emailed code and signs in; 4.4 sign-out ends the client's sessions", async () => {
    const fapi = fapiClient(idp.url, { origin: APP_ORIGIN });
    const res = await signUpWithCode(fapi, idp, {
      email_address: "Newbie@Example.test",
      password: "long enough",
      first_name: "New",
      last_name: "Bie",
      locale: "en-US",
    });
    expect(res.status).toBe(200);
    const signUp = asClerk.signUp(res.body.response);
    expect(signUp).toMatchObject({
      status: "complete",
      email_address: "newbie@example.test",
      first_name: "New",
    });
    expect(signUp.created_user_id).toMatch(/^user_/);
    expectNeededClient(res.body.client);
    const session = res.body.client.sessions[0];
    expectNeededSession(session);
    expect(session.id).toBe(signUp.created_session_id);
    expect(session.user).toMatchObject({ id: signUp.created_user_id, first_name: "New", last_name: "Bie" });

    const out = await fapi.call<Envelope<ClientWire>>("DELETE", "/client/sessions");
    expect(out.status).toBe(200);
    expectNeededClient(out.body.response);
    expect(out.body.response.sessions).toEqual([]);
    expect(out.body.response.last_active_session_id).toBeNull();
    expect(out.body.client?.sessions).toEqual([]);
    // The session is over everywhere: no more tokens, and the client keeps its cookie but no session.
    const token = await fapi.call<unknown>("POST", `/client/sessions/${session.id}/tokens`, {
      organization_id: "",
    });
    expect(token.status).toBe(401);
    const dev = await fetch(`${idp.url}/v1/dev/sessions/${session.id}/tokens`, {
      method: "POST",
      headers: { Authorization: `Bearer ${idp.secretKey}` },
    });
    expect(dev.status).toBe(401);
    expect(((await dev.json()) as ErrorBody).errors[0]?.code).toBe("session_not_active");
    const reload = await fapi.call<Envelope<ClientWire | null>>("GET", "/client");
    expect(reload.body.response?.sessions).toEqual([]);
  });

  it("4.5 tokens: bare default token with Clerk's claims, and the convex template = today's token + pla, fea", async () => {
    const fapi = fapiClient(idp.url, { origin: APP_ORIGIN });
    const signIn = await fapi.call<Envelope<SignInWire>>("POST", "/client/sign_ins", {
      identifier: "admin@gatehouse.test",
      password: SEED_PASSWORD,
    });
    const sessionId = signIn.body.response.created_session_id!;
    const jwks = createRemoteJWKSet(new URL(`${idp.url}/.well-known/jwks.json`));

    const def = await fapi.call<TokenWire>("POST", `/client/sessions/${sessionId}/tokens`, {
      organization_id: "",
    });
    expect(def.status).toBe(200);
    asClerk.token(def.body);
    expect(Object.keys(def.body).sort()).toEqual(["jwt", "object"]); // bare, not enveloped
    const { payload: d } = await jwtVerify(def.body.jwt, jwks, {
      issuer: idp.url,
      algorithms: ["RS256"],
      currentDate: new Date(clock),
    });
    // `pla` / `fea` follow billing, not metadata: the admin's Pro is a grant (`metadata.plan`),
    // their subscription is Free (billing.test.ts has Pro subscribers).
    expect(d).toMatchObject({
      sid: sessionId,
      azp: APP_ORIGIN,
      v: 2,
      pla: "u:free_user",
      fea: "u:posts",
      sts: "active",
      fva: [0, -1],
    });
    expect(d.aud).toBeUndefined();
    expect(d.exp! - d.iat!).toBe(60);

    const convex = await fapi.call<TokenWire>(
      "POST",
      `/client/sessions/${sessionId}/tokens/convex`,
      undefined,
      {
        debug: "skip_cache",
      },
    );
    expect(convex.status).toBe(200);
    const { payload: c, protectedHeader } = await jwtVerify(convex.body.jwt, jwks, {
      issuer: idp.url,
      audience: "convex",
      algorithms: ["RS256"],
      currentDate: new Date(clock),
    });
    expect(protectedHeader).toMatchObject({ alg: "RS256", typ: "JWT" });
    // The same session through today's dev API, at the same (frozen) time and origin.
    const today = await fetch(`${idp.url}/v1/dev/sessions/${sessionId}/tokens`, {
      method: "POST",
      headers: { Origin: APP_ORIGIN, Authorization: `Bearer ${idp.secretKey}` },
    });
    const todays = decodeJwt(((await today.json()) as { token: string }).token);
    expect(c).toEqual({ ...todays, pla: "u:free_user", fea: "u:posts" });
    expect(c).toMatchObject({
      aud: "convex",
      metadata: { role: "admin", plan: "pro" },
      email: "admin@gatehouse.test",
    });
    expect(typeof c.user_updated_at).toBe("number");

    // last_active_token on the session is the default token of now.
    const client = await fapi.call<Envelope<ClientWire>>("GET", "/client");
    const last = decodeJwt(client.body.response.sessions[0]!.last_active_token!.jwt);
    expect(last).toMatchObject({ sid: sessionId, pla: "u:free_user", v: 2 });

    const unknown = await fapi.call<{ errors: Array<{ code: string }> }>(
      "POST",
      `/client/sessions/${sessionId}/tokens/other`,
    );
    expect(unknown.status).toBe(404);
    expect(unknown.body.errors[0]?.code).toBe("resource_not_found");
    const proto = await fapi.call<{ errors: Array<{ code: string }> }>(
      "POST",
      `/client/sessions/${sessionId}/tokens/__proto__`,
    );
    expect(proto.status).toBe(404);
  });

  it("4.1 a reload's last_active_token names the page in azp, though Chromium's GET /v1/client has no Origin", async () => {
    const fapi = fapiClient(idp.url, { origin: APP_ORIGIN });
    const signIn = await fapi.call<Envelope<SignInWire>>("POST", "/client/sign_ins", {
      identifier: "pro@gatehouse.test",
      password: SEED_PASSWORD,
    });
    expect(decodeJwt(signIn.body.client!.sessions[0]!.last_active_token!.jwt).azp).toBe(APP_ORIGIN);
    // The test client, like Chromium, sends a same-origin GET with a Referer and no Origin.
    const reload = await fapi.call<Envelope<ClientWire>>("GET", "/client");
    expect(decodeJwt(reload.body.response.sessions[0]!.last_active_token!.jwt).azp).toBe(APP_ORIGIN);
    // A Referer from elsewhere is not believed: the issuer, as without any header.
    const elsewhere = await fetch(`${idp.url}/__clerk/v1/client`, {
      headers: {
        Cookie: [...fapi.jar].map(([k, v]) => `${k}=${v}`).join("; "),
        Referer: "https://evil.example/",
      },
    });
    const body = (await elsewhere.json()) as Envelope<ClientWire>;
    expect(decodeJwt(body.response.sessions[0]!.last_active_token!.jwt).azp).toBe(idp.url);
  });

  it("4.7 profile: PATCH /v1/me renames, GET /v1/me/sessions/active lists without tokens", async () => {
    const fapi = fapiClient(idp.url, { origin: APP_ORIGIN });
    const signIn = await fapi.call<Envelope<SignInWire>>("POST", "/client/sign_ins", {
      identifier: "free@gatehouse.test",
      password: SEED_PASSWORD,
    });
    const sessionId = signIn.body.response.created_session_id!;
    const before = signIn.body.client!.sessions[0]!.user;
    clock += 1_000;
    const patched = await fapi.call<Envelope<UserWire>>(
      "PATCH",
      "/me",
      { first_name: "Frances", last_name: "" },
      {
        _clerk_session_id: sessionId,
      },
    );
    expect(patched.status).toBe(200);
    const user = asClerk.user(patched.body.response);
    expect(user).toMatchObject({ id: before.id, first_name: "Frances", last_name: null });
    expect(user.updated_at).toBeGreaterThan(before.updated_at);
    expect(patched.body.client?.sessions[0]?.user.first_name).toBe("Frances");
    // The convex token carries the new name and freshness at once.
    const token = await fapi.call<TokenWire>("POST", `/client/sessions/${sessionId}/tokens/convex`);
    expect(decodeJwt(token.body.jwt)).toMatchObject({ name: "Frances", user_updated_at: user.updated_at });

    const me = await fapi.call<Envelope<UserWire>>("GET", "/me", undefined, { _clerk_session_id: sessionId });
    expect(me.body.response.first_name).toBe("Frances");

    const active = await fapi.call<SessionWithActivitiesWire[]>("GET", "/me/sessions/active", undefined, {
      _clerk_session_id: sessionId,
    });
    expect(active.status).toBe(200);
    expect(Array.isArray(active.body)).toBe(true);
    const mine = active.body.find((s) => s.id === sessionId);
    asClerk.sessionWithActivities(mine!);
    expect(mine).toMatchObject({ status: "active", user: null, last_active_token: null });
    expect(mine?.latest_activity.object).toBe("session_activity");
    // UserProfile's "Active devices" shows `${ip_address} (${[city, country].join(", ")})`: not "()".
    const { city, country } = mine!.latest_activity;
    expect([city, country].filter(Boolean).join(", ")).not.toBe("");
  });

  it("4.7 password change (UserProfile → Security): checks the current one, keeps this session, ends the others", async () => {
    const email = `changer-${clock}@gatehouse.test`;
    const mine = fapiClient(idp.url, { origin: APP_ORIGIN });
    const done = await signUpWithCode(mine, idp, { email_address: email, password: "first-password-1" });
    const sessionId = done.body.response.created_session_id!;
    const other = fapiClient(idp.url, { origin: APP_ORIGIN });
    const otherSignIn = await other.call<Envelope<SignInWire>>("POST", "/client/sign_ins", {
      identifier: email,
      password: "first-password-1",
    });
    const otherSession = otherSignIn.body.response.created_session_id!;
    const change = (form: Record<string, string>) =>
      mine.call<Envelope<UserWire> | ErrorBody>("POST", "/me/change_password", form, {
        _clerk_session_id: sessionId,
      });

    const wrong = await change({
      new_password: "second-password-2",
      sign_out_of_other_sessions: "true",
      current_password: "not-it",
    });
    expect(wrong.status).toBe(422);
    expect((wrong.body as ErrorBody).errors[0]).toMatchObject({
      code: "form_password_incorrect",
      meta: { param_name: "current_password" },
    });
    const short = await change({ new_password: "short", current_password: "first-password-1" });
    expect((short.body as ErrorBody).errors[0]).toMatchObject({
      code: "form_password_length_too_short",
      meta: { param_name: "new_password" },
    });

    clock += 1_000;
    const changed = await change({
      new_password: "second-password-2",
      sign_out_of_other_sessions: "true",
      current_password: "first-password-1",
    });
    expect(changed.status).toBe(200);
    const body = changed.body as Envelope<UserWire>;
    asClerk.user(body.response);
    expect(body.response.password_enabled).toBe(true);
    expect(body.client!.sessions.map((s) => s.id)).toEqual([sessionId]);
    const ended = await other.call("POST", `/client/sessions/${otherSession}/tokens`, {
      organization_id: "",
    });
    expect(ended.status).toBe(401);

    const again = fapiClient(idp.url, { origin: APP_ORIGIN });
    const old = await again.call("POST", "/client/sign_ins", {
      identifier: email,
      password: "first-password-1",
    });
    expect(old.status).toBe(422);
    const fresh = await again.call<Envelope<SignInWire>>("POST", "/client/sign_ins", {
      identifier: email,
      password: "second-password-2",
    });
    expect(fresh.body.response.status).toBe("complete");
  });

  it("removes one session with /remove, and answers the unprefixed /v1 paths too", async () => {
    const fapi = fapiClient(idp.url, { prefix: "" });
    const signIn = await fapi.call<Envelope<SignInWire>>("POST", "/client/sign_ins", {
      identifier: "pro@gatehouse.test",
      password: SEED_PASSWORD,
    });
    const sessionId = signIn.body.response.created_session_id!;
    const removed = await fapi.call<Envelope<SessionWire>>("POST", `/client/sessions/${sessionId}/remove`);
    expect(removed.status).toBe(200);
    expect(removed.body.response).toMatchObject({
      id: sessionId,
      status: "removed",
      last_active_token: null,
    });
    expect(removed.body.client?.sessions).toEqual([]);
    const again = await fapi.call<unknown>("POST", `/client/sessions/${sessionId}/remove`);
    expect(again.status).toBe(404);
  });

  it("single-session mode: a new sign-in in the same client ends the previous session", async () => {
    const fapi = fapiClient(idp.url);
    const first = await fapi.call<Envelope<SignInWire>>("POST", "/client/sign_ins", {
      identifier: "pro@gatehouse.test",
      password: SEED_PASSWORD,
    });
    const second = await fapi.call<Envelope<SignInWire>>("POST", "/client/sign_ins", {
      identifier: "free@gatehouse.test",
      password: SEED_PASSWORD,
    });
    expect(second.body.client?.sessions.map((s) => s.id)).toEqual([second.body.response.created_session_id]);
    const old = await fapi.call<unknown>(
      "POST",
      `/client/sessions/${first.body.response.created_session_id}/tokens`,
    );
    expect(old.status).toBe(401);
  });

  it("DELETE /v1/client forgets the browser: sessions end and the cookie is cleared", async () => {
    const fapi = fapiClient(idp.url);
    const signIn = await fapi.call<Envelope<SignInWire>>("POST", "/client/sign_ins", {
      identifier: "pro@gatehouse.test",
      password: SEED_PASSWORD,
    });
    const cookie = fapi.jar.get("__client");
    const gone = await fapi.call<Envelope<ClientWire>>("DELETE", "/client");
    expect(gone.status).toBe(200);
    expect(gone.body.response.sessions).toEqual([]);
    expect(gone.headers.getSetCookie()[0]).toMatch(/^__client=; .*Max-Age=0/);
    fapi.jar.set("__client", cookie!);
    const reload = await fapi.call<Envelope<null>>("GET", "/client");
    expect(reload.body.response).toBeNull();
    const token = await fetch(
      `${idp.url}/v1/dev/sessions/${signIn.body.response.created_session_id}/tokens`,
      { method: "POST", headers: { Authorization: `Bearer ${idp.secretKey}` } },
    );
    expect(token.status).toBe(401);
    expect(((await token.json()) as ErrorBody).errors[0]?.code).toBe("session_not_active");
  });
});

describe("Frontend API clients across restarts", () => {
  it("a restarted IdP (same data dir) still knows the browser's client and session", async () => {
    const dataDir = tempDataDir();
    try {
      const first = await startTestIdp({ dataDir, seed: true });
      const fapi = fapiClient(first.url);
      const signIn = await fapi.call<Envelope<SignInWire>>("POST", "/client/sign_ins", {
        identifier: "pro@gatehouse.test",
        password: SEED_PASSWORD,
      });
      await first.close();
      const second = await startTestIdp({ dataDir });
      try {
        const browser = fapiClient(second.url);
        browser.jar.set("__client", fapi.jar.get("__client")!);
        const reload = await browser.call<Envelope<ClientWire | null>>("GET", "/client");
        expect(reload.body.response?.sessions.map((s) => s.id)).toEqual([
          signIn.body.response.created_session_id,
        ]);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
