/**
 * CSRF on the Frontend API from another loopback port: a page anyone serves at 127.0.0.1:8080 is
 * same-site with the app at 127.0.0.1:5173, so the browser attaches the Lax `__client` cookie to
 * its form POSTs. Each state-changing route is attacked with the victim's cookie from a foreign
 * loopback Origin, without an Origin and with `null`, at both `/__clerk/v1` and `/v1`: every one is
 * 403 `origin_invalid` with no cookie set, and afterwards the user, their sessions, password,
 * addresses, pending sign-in/up and the mailbox are exactly as before. The app's own origins work.
 */
import type { IncomingMessage } from "node:http";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestIdp, type TestIdp } from "../test.idp.ts";
import type { Fapi } from "./fapi.ts";
import { fapiRoutes } from "./index.ts";
import type { ClientWire, SignInWire, SignUpWire } from "./json.ts";
import { fapiOriginPolicy, requireFapiOrigin } from "./originCheck.ts";
import {
  fapiClient,
  readMailbox,
  signInWithPassword,
  signUpWithCode,
  type Envelope,
  type ErrorBody,
  type FapiTestClient,
} from "./test.fapi.ts";

const APP = "http://127.0.0.1:5173";
const APP_LOCALHOST = "http://localhost:5173";
const ALLOWED = [APP, APP_LOCALHOST];
const PASSWORD = "victim password 1";

/** What a stranger's page (or a sandboxed frame) can make the victim's browser send as `Origin`. */
const HOSTILE_ORIGINS: Array<string | undefined> = ["http://127.0.0.1:8080", undefined, "null"];

/** Spellings that are not exactly an allowed origin; each one must be refused. */
const ORIGIN_SPELLINGS = [
  "null",
  "",
  "http://127.0.0.1:5173.evil",
  "http://127.0.0.1:5173/",
  "http://localhost:5173/",
  "http://127.0.0.1:5173/app",
  "http://127.0.0.1:5174",
  "http://127.0.0.1:51730",
  "http://127.0.0.1:05173",
  "http://127.0.0.1",
  "http://127.0.0.1:80",
  "https://127.0.0.1:5173",
  "https://localhost:5173",
  "HTTP://127.0.0.1:5173",
  "http://LOCALHOST:5173",
  "http://localhost.:5173",
  "http://[::1]:5173",
  "http://127.0.0.2:5173",
  "http://127.1:5173",
  "http://0x7f.0.0.1:5173",
  "http://user@127.0.0.1:5173",
  "http://127.0.0.1:5173@evil.example",
  "http://evil.example",
  "http://127.0.0.1:5173.evil.example",
  `${APP}, ${APP}`,
  `${APP} ${APP_LOCALHOST}`,
  "ws://127.0.0.1:5173",
  "file://",
  "127.0.0.1:5173",
];

interface Ids {
  userId: string;
  sessionId: string;
  primaryEmailId: string;
  secondaryEmailId: string;
  signInId: string;
  signUpId: string;
  /** The victim's checkout for Pro, started and not confirmed. */
  checkoutId: string;
  /** The victim's free plan item. */
  itemId: string;
}

interface Attack {
  /** Which client's cookie rides along: the signed-in victim's, or one mid sign-in / sign-up. */
  as: "victim" | "signingIn" | "signingUp";
  method: "POST" | "PATCH" | "PUT" | "DELETE";
  path: (ids: Ids) => string;
  form?: (ids: Ids) => Record<string, string>;
  /** A multipart body, as `setProfileImage` sends. */
  multipart?: boolean;
}

/** Placeholder ids, to name the attacks and to match them against the routes' patterns. */
const PLACEHOLDERS: Ids = {
  userId: "user_x",
  sessionId: "sess_x",
  primaryEmailId: "idn_x",
  secondaryEmailId: "idn_y",
  signInId: "sia_x",
  signUpId: "sua_x",
  checkoutId: "cchk_x",
  itemId: "csubi_x",
};

/** Every state-changing Frontend API call, with what a CSRF page would want to send. */
const ATTACKS: Attack[] = [
  { as: "victim", method: "PATCH", path: () => "/environment" },
  { as: "victim", method: "DELETE", path: () => "/client" },
  {
    as: "victim",
    method: "POST",
    path: () => "/client/sign_ins",
    form: () => ({ identifier: "pro@gatehouse.test", password: "gatehouse-dev" }), // login CSRF
  },
  {
    as: "signingIn",
    method: "POST",
    path: (ids) => `/client/sign_ins/${ids.signInId}/prepare_first_factor`,
    form: (ids) => ({ strategy: "reset_password_email_code", email_address_id: ids.primaryEmailId }),
  },
  {
    as: "signingIn",
    method: "POST",
    path: (ids) => `/client/sign_ins/${ids.signInId}/attempt_first_factor`,
    form: () => ({ strategy: "password", password: PASSWORD }),
  },
  {
    as: "signingIn",
    method: "POST",
    path: (ids) => `/client/sign_ins/${ids.signInId}/reset_password`,
    form: () => ({ password: "attacker chosen 1" }),
  },
  {
    as: "victim",
    method: "POST",
    path: () => "/client/sign_ups",
    form: () => ({ email_address: "mallory@example.test", password: "mallory password" }),
  },
  {
    as: "signingUp",
    method: "PATCH",
    path: (ids) => `/client/sign_ups/${ids.signUpId}`,
    form: () => ({ email_address: "mallory@example.test" }),
  },
  {
    as: "signingUp",
    method: "POST",
    path: (ids) => `/client/sign_ups/${ids.signUpId}/prepare_verification`,
    form: () => ({ strategy: "email_code" }),
  },
  {
    as: "signingUp",
    method: "POST",
    path: (ids) => `/client/sign_ups/${ids.signUpId}/attempt_verification`,
    form: () => ({ strategy: "email_code", code: "000000" }),
  },
  { as: "victim", method: "POST", path: (ids) => `/client/sessions/${ids.sessionId}/touch` },
  { as: "victim", method: "POST", path: (ids) => `/client/sessions/${ids.sessionId}/tokens` },
  { as: "victim", method: "POST", path: (ids) => `/client/sessions/${ids.sessionId}/tokens/convex` },
  { as: "victim", method: "DELETE", path: () => "/client/sessions" },
  { as: "victim", method: "POST", path: (ids) => `/client/sessions/${ids.sessionId}/remove` },
  { as: "victim", method: "PATCH", path: () => "/me", form: () => ({ first_name: "Mallory" }) },
  {
    as: "victim",
    method: "PATCH",
    path: () => "/me",
    form: (ids) => ({ primary_email_address_id: ids.secondaryEmailId }),
  },
  { as: "victim", method: "DELETE", path: () => "/me" },
  {
    as: "victim",
    method: "POST",
    path: () => "/me/change_password",
    form: () => ({
      current_password: PASSWORD,
      new_password: "attacker chosen 1",
      sign_out_of_other_sessions: "true",
    }),
  },
  { as: "victim", method: "POST", path: (ids) => `/me/sessions/${ids.sessionId}/revoke` },
  {
    as: "victim",
    method: "POST",
    path: () => "/me/email_addresses/",
    form: () => ({ email_address: "mallory@example.test" }),
  },
  { as: "victim", method: "DELETE", path: (ids) => `/me/email_addresses/${ids.secondaryEmailId}` },
  {
    as: "victim",
    method: "POST",
    path: (ids) => `/me/email_addresses/${ids.secondaryEmailId}/prepare_verification`,
    form: () => ({ strategy: "email_code" }),
  },
  {
    as: "victim",
    method: "POST",
    path: (ids) => `/me/email_addresses/${ids.secondaryEmailId}/attempt_verification`,
    form: () => ({ code: "000000" }),
  },
  { as: "victim", method: "POST", path: () => "/me/profile_image", multipart: true },
  { as: "victim", method: "DELETE", path: () => "/me/profile_image" },
  // Clerk Billing: a page that could buy, cancel or change the default card for the victim.
  {
    as: "victim",
    method: "POST",
    path: () => "/me/billing/checkouts",
    form: () => ({ plan_id: "cplan_pro", plan_period: "annual" }),
  },
  {
    as: "victim",
    method: "PATCH",
    path: (ids) => `/me/billing/checkouts/${ids.checkoutId}/confirm`,
    form: () => ({ payment_method_id: "cpm_test_4242" }),
  },
  { as: "victim", method: "DELETE", path: (ids) => `/me/billing/subscription_items/${ids.itemId}` },
  {
    as: "victim",
    method: "PUT",
    path: () => "/me/billing/payers/default_payment_method",
    form: () => ({ payment_method_id: "cpm_test_0002" }),
  },
  {
    as: "victim",
    method: "POST",
    path: () => "/me/billing/payment_methods/initialize",
    form: () => ({ gateway: "stripe" }),
  },
  {
    as: "victim",
    method: "POST",
    path: () => "/me/billing/payment_methods",
    form: () => ({ gateway: "stripe", payment_token: "pm_card_visa" }),
  },
  { as: "victim", method: "DELETE", path: () => "/me/billing/payment_methods/cpm_test_4242" },
];

/** A 1×1 PNG's signature and header, enough for the upload to pass the sniffing if it were reached. */
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  "base64",
);

/** Sends an attack as the victim's browser would: their cookie, the attacker page's Origin (or none). */
async function attack(
  idp: TestIdp,
  cookie: string,
  { method, path, form, multipart }: Attack,
  ids: Ids,
  origin: string | undefined,
  prefix: string,
) {
  const url = new URL(`${idp.url}${prefix}${path(ids)}`);
  if (method !== "POST") url.searchParams.set("_method", method);
  const headers: Record<string, string> = { Cookie: cookie };
  if (origin !== undefined) headers["Origin"] = origin;
  let body: FormData | string;
  if (multipart) {
    body = new FormData();
    body.append("file", new File([new Uint8Array(PNG)], "a.png", { type: "image/png" }));
  } else {
    headers["Content-Type"] = "application/x-www-form-urlencoded";
    body = new URLSearchParams(form?.(ids) ?? {}).toString();
  }
  const response = await fetch(url, { method: "POST", headers, body, redirect: "manual" });
  return { status: response.status, headers: response.headers, body: (await response.json()) as ErrorBody };
}

function expectRefused(res: { status: number; headers: Headers; body: ErrorBody }, code = "origin_invalid") {
  expect(res.status).toBe(403);
  expect(res.headers.get("content-type")).toBe("application/json");
  expect(res.headers.getSetCookie()).toEqual([]); // no cookie renewed, none cleared, none planted
  expect(res.body.errors[0]).toMatchObject({
    code,
    message: expect.any(String),
    long_message: expect.any(String),
  });
}

describe("Frontend API CSRF: only the app's origins change state (fapiOrigins)", () => {
  let idp: TestIdp;
  let ids: Ids;
  let victim: FapiTestClient;
  let signingIn: FapiTestClient;
  let signingUp: FapiTestClient;

  const bapi = async (path: string) => {
    const res = await fetch(`${idp.url}/v1${path}`, {
      headers: { Authorization: `Bearer ${idp.secretKey}` },
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  /** Everything an attack could change; compared whole before and after. */
  async function snapshot() {
    const clientOf = async (fapi: FapiTestClient) =>
      (await fapi.call<Envelope<ClientWire | null>>("GET", "/client")).body.response;
    const victimClient = await clientOf(victim);
    return {
      user: (await bapi(`/users/${ids.userId}`)).body,
      users: (await bapi("/users/count")).body,
      sessions: victimClient?.sessions.map((s) => [s.id, s.status]),
      cookies: [victim.cookieHeader(), signingIn.cookieHeader(), signingUp.cookieHeader()],
      signIn: (await clientOf(signingIn))?.sign_in,
      signUp: (await clientOf(signingUp))?.sign_up,
      mailbox: (await readMailbox(idp)).length,
      subscription: (await bapi(`/users/${ids.userId}/billing/subscription`)).body,
      paymentMethods: (await victim.call<Envelope<unknown>>("GET", "/me/billing/payment_methods")).body
        .response,
    };
  }

  beforeAll(async () => {
    idp = await startTestIdp({ seed: true, fapiOrigins: ALLOWED });
    victim = fapiClient(idp.url, { origin: APP });
    const done = await signUpWithCode(victim, idp, {
      email_address: "victim@example.test",
      password: PASSWORD,
    });
    expect(done.status).toBe(200);
    const userId = done.body.response.created_user_id!;
    const sessionId = done.body.response.created_session_id!;
    const added = await victim.call<Envelope<{ id: string }>>("POST", "/me/email_addresses/", {
      email_address: "victim-two@example.test",
    });
    expect(added.status).toBe(200);
    const user = (await victim.call<Envelope<{ primary_email_address_id: string }>>("GET", "/me")).body;
    const checkout = await victim.call<Envelope<{ id: string }>>("POST", "/me/billing/checkouts", {
      plan_id: "cplan_pro",
      plan_period: "month",
    });
    expect(checkout.status).toBe(200);
    const subscription = await victim.call<Envelope<{ subscription_items: Array<{ id: string }> }>>(
      "GET",
      "/me/billing/subscription",
    );
    signingIn = fapiClient(idp.url, { origin: APP_LOCALHOST });
    const signIn = await signingIn.call<Envelope<SignInWire>>("POST", "/client/sign_ins", {
      identifier: "victim@example.test",
    });
    expect(signIn.status).toBe(200);
    signingUp = fapiClient(idp.url, { origin: APP });
    const signUp = await signingUp.call<Envelope<SignUpWire>>("POST", "/client/sign_ups", {
      email_address: "pending@example.test",
      password: "pending password",
    });
    expect(signUp.status).toBe(200);
    ids = {
      userId,
      sessionId,
      primaryEmailId: user.response.primary_email_address_id,
      secondaryEmailId: added.body.response.id,
      signInId: signIn.body.response.id,
      signUpId: signUp.body.response.id,
      checkoutId: checkout.body.response.id,
      itemId: subscription.body.response.subscription_items[0]!.id,
    };
  });
  afterAll(() => idp.dispose());

  it("every state-changing route is in the attack table", () => {
    // A new FAPI route that changes state must be attacked here too (the table is the proof).
    const routes = fapiRoutes({ options: {} } as unknown as Fapi).filter(
      (r) => r.access === "fapi" && r.method !== "GET",
    );
    expect(routes.length).toBeGreaterThan(20);
    for (const route of routes) {
      const covered = ATTACKS.some(
        (a) => a.method === route.method && route.pattern.test(`/__clerk/v1${a.path(PLACEHOLDERS)}`),
      );
      expect(covered, `${route.method} ${String(route.pattern)}`).toBe(true);
    }
  });

  const named = ATTACKS.map((a) => {
    const fields = Object.keys(a.form?.(PLACEHOLDERS) ?? {}).join(", ");
    return [`${a.method} ${a.path(PLACEHOLDERS)}${fields ? ` (${fields})` : ""}`, a] as const;
  });
  it.each(named)(
    "%s from a foreign loopback page, without Origin or with null: 403, nothing changes",
    async (_name, entry) => {
      const before = await snapshot();
      const cookie = { victim, signingIn, signingUp }[entry.as].cookieHeader();
      for (const origin of HOSTILE_ORIGINS) {
        for (const prefix of ["/__clerk/v1", "/v1"]) {
          expectRefused(await attack(idp, cookie, entry, ids, origin, prefix));
        }
      }
      expect(await snapshot()).toEqual(before);
    },
  );

  it("refuses every Origin spelling but the exact allowed ones", async () => {
    const before = await snapshot();
    const rename = ATTACKS.find((a) => a.method === "PATCH" && a.path(ids) === "/me")!;
    for (const origin of ORIGIN_SPELLINGS) {
      const res = await attack(idp, victim.cookieHeader(), rename, ids, origin, "/__clerk/v1");
      // A non-loopback origin is already refused by the IdP-wide check (`origin_not_allowed`).
      expect(res.status, origin).toBe(403);
      expect(["origin_invalid", "origin_not_allowed"], origin).toContain(res.body.errors[0]?.code);
      expect(res.headers.getSetCookie(), origin).toEqual([]);
    }
    expect(await snapshot()).toEqual(before);
  });

  it("the app's own origins work: rename, password change and account deletion go through", async () => {
    const renamed = await victim.call<Envelope<{ first_name: string }>>("PATCH", "/me", {
      first_name: "Vic",
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body.response.first_name).toBe("Vic");

    const other = fapiClient(idp.url, { origin: APP_LOCALHOST });
    await signInWithPassword(other, "victim@example.test", PASSWORD);
    const changed = await other.call("POST", "/me/change_password", {
      current_password: PASSWORD,
      new_password: "victim password 2",
    });
    expect(changed.status).toBe(200);

    const deleted = await victim.call("DELETE", "/me");
    expect(deleted.status).toBe(200);
    expect((await bapi(`/users/${ids.userId}`)).status).toBe(404);
  });

  it("GETs stay open to any loopback page: no CORS (a read is opaque) and nosniff (not a script)", async () => {
    const res = await fetch(`${idp.url}/__clerk/v1/environment`, {
      headers: { Origin: "http://127.0.0.1:8080" },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    // …and cannot be run as a script either (a bare array such as /me/sessions/active would parse).
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  });
});

describe("Frontend API CSRF without fapiOrigins (tests, the standalone CLI)", () => {
  let idp: TestIdp;
  beforeAll(async () => {
    idp = await startTestIdp();
  });
  afterAll(() => idp.dispose());

  const touchEnvironment = (origin: string | undefined) =>
    attack(idp, "", { as: "victim", method: "PATCH", path: () => "/environment" }, {} as Ids, origin, "/v1");

  it("takes any loopback origin as before, never a missing one or null", async () => {
    for (const origin of ["http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:5173", idp.url]) {
      expect((await touchEnvironment(origin)).status, origin).toBe(200);
    }
    for (const origin of [undefined, "null", "", "HTTP://127.0.0.1:5173", "http://127.0.0.1:5173/"]) {
      expectRefused(await touchEnvironment(origin));
    }
    expectRefused(await touchEnvironment("https://evil.example"), "origin_not_allowed");
  });
});

describe("fapiOrigins: the policy", () => {
  const request = (origin: string | undefined) => ({ headers: { origin } }) as unknown as IncomingMessage;
  const accepts = (origins: string[] | undefined, origin: string | undefined) => {
    try {
      requireFapiOrigin(request(origin), fapiOriginPolicy(origins));
      return true;
    } catch {
      return false;
    }
  };

  it("accepts exactly the configured strings (property)", () => {
    const mutated = fc
      .tuple(fc.constantFrom(...ALLOWED), fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }))
      .chain(([origin, before, after]) =>
        fc.constantFrom(
          before + origin + after,
          origin.toUpperCase(),
          origin.replace("http:", "https:"),
          origin.replace("5173", String(Number(before.length) + 5174)),
          `${origin}/${after}`,
        ),
      );
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom(...ALLOWED), mutated, fc.string(), fc.webUrl()), (origin) => {
        expect(accepts(ALLOWED, origin)).toBe(ALLOWED.includes(origin));
      }),
      { numRuns: 2000 },
    );
    expect(accepts(ALLOWED, undefined)).toBe(false);
  });

  it("refuses a malformed configuration at start-up rather than never matching", async () => {
    for (const bad of [
      [],
      ["http://127.0.0.1:5173/"],
      ["HTTP://127.0.0.1:5173"],
      ["https://evil.example"],
      ["*"],
    ]) {
      expect(() => fapiOriginPolicy(bad), JSON.stringify(bad)).toThrow(/fapiOrigins/);
    }
    await expect(startTestIdp({ fapiOrigins: ["http://127.0.0.1:5173/"] })).rejects.toThrow(/fapiOrigins/);
  });
});
