/**
 * Test helpers for the Frontend API: a client that talks like clerk-js (form bodies, `_method`,
 * the version query parameters, a cookie jar for `__client`), and compile-time checks that the
 * emulation's JSON types fit Clerk's published ones (the `@clerk/shared` that `@clerk/clerk-react`
 * uses, so the types match the clerk-js it loads).
 */
import type {
  ClerkAPIErrorJSON,
  ClientJSON,
  EnvironmentJSON,
  OrganizationSettingsJSON,
  SessionJSON,
  SessionWithActivitiesJSON,
  SignInJSON,
  SignUpJSON,
  TokenJSON,
  UserJSON,
  UserSettingsJSON,
  VerificationJSON,
} from "../../../node_modules/@clerk/clerk-react/node_modules/@clerk/shared/dist/types/index.mjs";
import { afterAll, beforeAll, beforeEach, expect } from "vitest";
import type { IdpOptions } from "../server.ts";
import {
  startTestIdp,
  startWebhookReceiver,
  type ReceivedWebhook,
  type TestIdp,
  type WebhookReceiver,
} from "../test.idp.ts";
import type { EnvironmentWire } from "./environment.ts";
import type {
  ClientWire,
  SessionWire,
  SessionWithActivitiesWire,
  SignInWire,
  SignUpWire,
  TokenWire,
  UserWire,
} from "./json.ts";

/**
 * Clerk's types, loosened where they are stricter than Clerk's own wire: a verification (and a
 * sign-up's per-field verifications) may be null, and has no `error` unless one occurred; a token
 * carries no `id` and an ended session has none (null). Everything else must match exactly.
 */
type WireVerification = Omit<VerificationJSON, "error" | "attempts" | "expire_at"> & {
  error?: ClerkAPIErrorJSON;
  attempts: number | null;
  expire_at: number | null;
};
export type Wire<T> = 0 extends 1 & T
  ? T
  : T extends VerificationJSON
    ? (WireVerification & Wire<Omit<T, keyof VerificationJSON>>) | null
    : T extends TokenJSON
      ? Omit<TokenJSON, "id"> | null
      : T extends ReadonlyArray<infer U>
        ? Array<Wire<U>>
        : T extends object
          ? { [K in keyof T]: Wire<T[K]> }
          : T;

/** `user_settings` / `organization_settings` declare `id: never` and `object: never` (nothing can have them), and `social` requires every OAuth provider. */
type WireEnvironment = Omit<EnvironmentJSON, "user_settings" | "organization_settings"> & {
  user_settings: Omit<UserSettingsJSON, "id" | "object" | "social"> & {
    social: Partial<UserSettingsJSON["social"]>;
  };
  organization_settings: Omit<OrganizationSettingsJSON, "id" | "object">;
};

// Compile-time: each emulated resource is assignable to Clerk's type (tsc checks these lines).
export const asClerk = {
  client: (x: ClientWire): Wire<ClientJSON> => x,
  session: (x: SessionWire): Wire<SessionJSON> => x,
  user: (x: UserWire): Wire<UserJSON> => x,
  signIn: (x: SignInWire): Wire<SignInJSON> => x,
  signUp: (x: SignUpWire): Wire<SignUpJSON> => x,
  token: (x: TokenWire): Wire<TokenJSON> => x,
  sessionWithActivities: (x: SessionWithActivitiesWire): Wire<SessionWithActivitiesJSON> => x,
  environment: (x: EnvironmentWire): WireEnvironment => x,
};

export interface ErrorBody {
  errors: ClerkAPIErrorJSON[];
}

export interface Envelope<T> {
  response: T;
  client: ClientWire | null;
}

export interface FapiResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

/**
 * Asserts Clerk's error answer: the status, a JSON body whose first error has this code and the
 * messages clerk-js shows, and (if given) the form field it is shown under. Returns that error.
 */
export function expectClerkError(res: FapiResponse<unknown>, status: number, code: string, param?: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toBe("application/json");
  const [error] = (res.body as ErrorBody).errors;
  expect(error).toMatchObject({ code, message: expect.any(String), long_message: expect.any(String) });
  if (param) expect(error?.meta).toMatchObject({ param_name: param });
  return error;
}

export const CLERK_JS_VERSION = "5.128.0";

/** The app's page in the tests (Vite's dev server), an origin the IdP lets change state. */
export const APP_ORIGIN = "http://localhost:5173";

/** A six-digit code that is not `code`. */
export const wrongCode = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, "0");

/**
 * Calls the FAPI the way clerk-js does: `?__clerk_api_version&_clerk_js_version`, a form body on
 * every POST (with that content type even when empty), `_method` for PATCH/PUT/DELETE, and the
 * `__client` cookie kept between calls.
 *
 * `origin` is the page's: sent as `Origin` on every POST and as `Referer` on every call, like
 * Chromium. Without it the page is the IdP's own origin, sent as `Origin` on POSTs only: a browser
 * always sends one on a POST, and the FAPI refuses state changes without it.
 */
export function fapiClient(
  baseUrl: string,
  options: { prefix?: string; origin?: string; userAgent?: string } = {},
) {
  const jar = new Map<string, string>();
  const prefix = options.prefix ?? "/__clerk";

  async function call<T>(
    method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE",
    path: string,
    form?: Record<string, string>,
    query: Record<string, string> = {},
  ): Promise<FapiResponse<T>> {
    const url = new URL(`${baseUrl}${prefix}/v1${path}`);
    url.searchParams.set("__clerk_api_version", "2025-11-10");
    url.searchParams.set("_clerk_js_version", CLERK_JS_VERSION);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    if (method === "PATCH" || method === "PUT" || method === "DELETE")
      url.searchParams.set("_method", method);
    const headers: Record<string, string> = {};
    if (jar.size > 0) headers["Cookie"] = cookieHeader();
    if (options.userAgent) headers["User-Agent"] = options.userAgent;
    // Like Chromium: every fetch carries the page as Referer, only non-GET ones an Origin.
    if (options.origin) headers["Referer"] = `${options.origin}/`;
    if (method !== "GET") headers["Origin"] = options.origin ?? new URL(baseUrl).origin;
    let body: string | undefined;
    if (method !== "GET") {
      headers["Content-Type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(form ?? {}).toString();
    }
    const response = await fetch(url, { method: method === "GET" ? "GET" : "POST", headers, body });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = ""] = cookie.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (/Max-Age=0/i.test(cookie) || value === "") jar.delete(name);
      else jar.set(name, value);
    }
    return { status: response.status, headers: response.headers, body: (await response.json()) as T };
  }

  /** The `Cookie` header this browser sends (for requests made by hand, e.g. an upload). */
  function cookieHeader(): string {
    return [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  return { call, jar, cookieHeader };
}

export type FapiTestClient = ReturnType<typeof fapiClient>;

/** `POST /client/sign_ins/{id}/attempt_first_factor` with a factor's fields (a password or a code). */
export function attemptFirstFactor(
  fapi: FapiTestClient,
  signInId: string,
  factor: { strategy: string; password?: string; code?: string },
) {
  return fapi.call<Envelope<SignInWire>>("POST", `/client/sign_ins/${signInId}/attempt_first_factor`, factor);
}

export interface MailboxEntry {
  object: "email";
  id: string;
  email_address: string;
  purpose: "sign_up" | "sign_in" | "reset_password" | "verify_email";
  code: string;
  created_at: number;
  expire_at: number;
}

/** Where the dev mailbox is and the key it takes (a `TestIdp` is one). */
export interface MailboxAccess {
  url: string;
  secretKey: string;
}

/** The dev mailbox (`GET /v1/dev/mailbox`, `Authorization: Bearer <secret key>`), newest first. */
export async function readMailbox(idp: MailboxAccess, email?: string): Promise<MailboxEntry[]> {
  const url = new URL(`${idp.url}/v1/dev/mailbox`);
  if (email !== undefined) url.searchParams.set("email", email);
  const response = await fetch(url, { headers: { Authorization: `Bearer ${idp.secretKey}` } });
  if (response.status !== 200) throw new Error(`mailbox: ${response.status}`);
  return ((await response.json()) as { data: MailboxEntry[] }).data;
}

/** Signs in with email and password in one step (as a password manager does); the new session's id. */
export async function signInWithPassword(fapi: FapiTestClient, identifier: string, password: string) {
  const res = await fapi.call<Envelope<SignInWire>>("POST", "/client/sign_ins", { identifier, password });
  if (res.status !== 200) throw new Error(`sign-in of ${identifier}: ${res.status}`);
  return res.body.response.created_session_id!;
}

/** The newest code mailed to `email`. */
export async function latestCode(idp: MailboxAccess, email: string): Promise<string> {
  const [latest] = await readMailbox(idp, email);
  if (!latest) throw new Error(`no code for ${email}`);
  return latest.code;
}

/**
 * Clerk's sign-up with email verification, as clerk-js's `<SignUp>` drives it: create with the
 * fields, prepare an email code, attempt it with the code from the dev mailbox. Returns the last
 * (complete) response.
 */
export async function signUpWithCode(
  fapi: FapiTestClient,
  idp: MailboxAccess,
  fields: Record<string, string>,
): Promise<FapiResponse<Envelope<SignUpWire>>> {
  const created = await fapi.call<Envelope<SignUpWire>>("POST", "/client/sign_ups", fields);
  if (created.status !== 200) return created;
  const id = created.body.response.id;
  await fapi.call("POST", `/client/sign_ups/${id}/prepare_verification`, { strategy: "email_code" });
  const code = await latestCode(idp, created.body.response.email_address);
  return fapi.call<Envelope<SignUpWire>>("POST", `/client/sign_ups/${id}/attempt_verification`, {
    strategy: "email_code",
    code,
  });
}

/** An IdP for a `describe` block whose webhooks go to a receiver (see `idpWithWebhooks`). */
export interface IdpWithWebhooks {
  readonly idp: TestIdp;
  readonly receiver: WebhookReceiver;
  /** Waits for the webhooks sent so far to be delivered, then forgets them. */
  forgetWebhooks(): Promise<void>;
  /** Waits for the webhooks sent so far to be delivered; those the receiver got since last forgotten. */
  deliveredWebhooks(): Promise<ReceivedWebhook[]>;
}

/**
 * For a `describe` block: an IdP (with `options`) whose webhooks go to a fresh receiver, both
 * started before its tests and closed after them; each test starts with the webhooks sent so far
 * delivered and forgotten, so it sees only its own. `idp` and `receiver` exist from `beforeAll` on.
 */
export function idpWithWebhooks(options: IdpOptions): IdpWithWebhooks {
  let started: { idp: TestIdp; receiver: WebhookReceiver } | undefined;
  const running = () => {
    if (!started) throw new Error("the IdP starts in beforeAll: use it in hooks and tests");
    return started;
  };
  const env: IdpWithWebhooks = {
    get idp() {
      return running().idp;
    },
    get receiver() {
      return running().receiver;
    },
    async forgetWebhooks() {
      (await env.deliveredWebhooks()).length = 0;
    },
    async deliveredWebhooks() {
      await env.idp.whenDelivered(5_000);
      return env.receiver.received;
    },
  };
  beforeAll(async () => {
    const receiver = await startWebhookReceiver();
    try {
      started = { receiver, idp: await startTestIdp({ ...options, webhookUrl: receiver.url }) };
    } catch (error) {
      await receiver.close();
      throw error;
    }
  });
  beforeEach(() => env.forgetWebhooks());
  afterAll(async () => {
    await started?.idp.dispose();
    await started?.receiver.close();
  });
  return env;
}

export const FRESH_USER_PASSWORD = "long enough";
let freshUsers = 0;

/**
 * A new user (`fresh-N@example.test`, FRESH_USER_PASSWORD), signed up with an email code in a new
 * browser that stays signed in; the webhooks of the sign-up are delivered and forgotten.
 */
export async function signUpFreshUser(
  env: IdpWithWebhooks,
  browser: { origin: string; userAgent?: string },
): Promise<{ fapi: FapiTestClient; email: string; sessionId: string; user: UserWire }> {
  const email = `fresh-${++freshUsers}@example.test`;
  const fapi = fapiClient(env.idp.url, browser);
  const done = await signUpWithCode(fapi, env.idp, { email_address: email, password: FRESH_USER_PASSWORD });
  if (done.status !== 200) throw new Error(`sign-up of ${email}: ${done.status}`);
  await env.forgetWebhooks();
  return {
    fapi,
    email,
    sessionId: done.body.response.created_session_id!,
    user: done.body.client!.sessions[0]!.user,
  };
}
