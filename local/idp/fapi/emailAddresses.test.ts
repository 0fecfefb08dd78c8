import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { SEED_PASSWORD } from "../config.ts";
import { callAsBackend, type ReceivedWebhook } from "../test.idp.ts";
import type { UserJson } from "../users.ts";
import { CODE_LIFETIME_MS, MAX_CODE_ATTEMPTS } from "./codes.ts";
import type { DeletedObjectWire, EmailAddressWire, TokenWire, UserWire } from "./json.ts";
import {
  APP_ORIGIN,
  wrongCode,
  asClerk,
  expectClerkError as expectError,
  fapiClient,
  idpWithWebhooks,
  latestCode,
  readMailbox,
  signInWithPassword,
  signUpFreshUser,
  signUpWithCode,
  type Envelope,
  type ErrorBody,
  type FapiTestClient,
} from "./test.fapi.ts";

let clock = Date.UTC(2030, 0, 1, 12, 0, 0);

interface UserEvent {
  type: string;
  data: UserJson;
}

const events = (received: ReceivedWebhook[]) => received.map((r) => JSON.parse(r.body) as UserEvent);

describe("UserProfile email addresses (/v1/me/email_addresses)", () => {
  const env = idpWithWebhooks({ seed: true, now: () => clock });

  /** A fresh user signed in through a fresh client, and their first email's id; webhooks so far cleared. */
  async function freshUser() {
    const { user, ...fresh } = await signUpFreshUser(env, { origin: APP_ORIGIN });
    return { ...fresh, userId: user.id, firstEmailId: user.primary_email_address_id };
  }

  const me = (fapi: FapiTestClient, sessionId: string) => ({
    add: (form: Record<string, string>) =>
      fapi.call<Envelope<EmailAddressWire>>("POST", "/me/email_addresses/", form, {
        _clerk_session_id: sessionId,
      }),
    prepare: (id: string, form: Record<string, string> = { strategy: "email_code" }) =>
      fapi.call<Envelope<EmailAddressWire>>("POST", `/me/email_addresses/${id}/prepare_verification`, form, {
        _clerk_session_id: sessionId,
      }),
    attempt: (id: string, code: string) =>
      fapi.call<Envelope<EmailAddressWire>>(
        "POST",
        `/me/email_addresses/${id}/attempt_verification`,
        { code },
        { _clerk_session_id: sessionId },
      ),
    get: (id: string) =>
      fapi.call<Envelope<EmailAddressWire>>("GET", `/me/email_addresses/${id}`, undefined, {
        _clerk_session_id: sessionId,
      }),
    remove: (id: string) =>
      fapi.call<Envelope<DeletedObjectWire>>("DELETE", `/me/email_addresses/${id}`, undefined, {
        _clerk_session_id: sessionId,
      }),
    patch: (form: Record<string, string>) =>
      fapi.call<Envelope<UserWire>>("PATCH", "/me", form, { _clerk_session_id: sessionId }),
  });

  async function backendUser(userId: string): Promise<{ status: number; body: UserJson }> {
    const res = await callAsBackend(env.idp, `/v1/users/${userId}`);
    return { status: res.status, body: (await res.json()) as UserJson };
  }

  /** Adds an address and verifies it with the mailed code; its id. */
  async function addVerified(fapi: FapiTestClient, sessionId: string, address: string): Promise<string> {
    const api = me(fapi, sessionId);
    const added = await api.add({ email_address: address });
    expect(added.status).toBe(200);
    const id = added.body.response.id;
    expect((await api.prepare(id)).status).toBe(200);
    expect((await api.attempt(id, await latestCode(env.idp, address))).status).toBe(200);
    return id;
  }

  it("adds an address, verifies it by the mailed code, makes it primary and removes the old one, each with user.updated", async () => {
    const { fapi, sessionId, userId, firstEmailId, email } = await freshUser();
    const api = me(fapi, sessionId);

    clock += 1_000;
    const added = await api.add({ email_address: "  Second@Example.TEST " });
    expect(added.status).toBe(200);
    const address = added.body.response;
    expect(address).toMatchObject({
      object: "email_address",
      id: expect.stringMatching(/^idn_/),
      email_address: "second@example.test",
      verification: { status: "unverified", strategy: "email_code" },
      linked_to: [],
      matches_sso_connection: false,
    });
    const user = asClerk.user(added.body.client!.sessions[0]!.user);
    expect(user.email_addresses.map((e) => [e.email_address, e.verification?.status])).toEqual([
      [email, "verified"],
      ["second@example.test", "unverified"],
    ]);
    expect(user.primary_email_address_id).toBe(firstEmailId);

    const prepared = await api.prepare(address.id);
    expect(prepared.status).toBe(200);
    expect(prepared.body.response.verification).toMatchObject({
      status: "unverified",
      strategy: "email_code",
      attempts: 0,
      expire_at: clock + CODE_LIFETIME_MS,
    });
    const [mail] = await readMailbox(env.idp, "second@example.test");
    expect(mail).toMatchObject({ purpose: "verify_email", code: expect.stringMatching(/^\d{6}$/) });

    expectError(await api.attempt(address.id, wrongCode(mail!.code)), 422, "form_code_incorrect", "code");
    expect((await api.get(address.id)).body.response.verification).toMatchObject({ attempts: 1 });
    clock += 1_000;
    const verified = await api.attempt(address.id, mail!.code);
    expect(verified.status).toBe(200);
    expect(verified.body.response).toMatchObject({
      id: address.id,
      verification: { status: "verified", strategy: "email_code" },
    });
    expectError(await api.attempt(address.id, mail!.code), 422, "verification_already_verified", "code");

    clock += 1_000;
    const primary = await api.patch({ primary_email_address_id: address.id });
    expect(primary.status).toBe(200);
    expect(asClerk.user(primary.body.response).primary_email_address_id).toBe(address.id);
    // The token names the new primary at once.
    const token = await fapi.call<TokenWire>("POST", `/client/sessions/${sessionId}/tokens/convex`);
    expect(decodeJwt(token.body.jwt).email).toBe("second@example.test");

    clock += 1_000;
    const removed = await api.remove(firstEmailId);
    expect(removed.status).toBe(200);
    expect(removed.body.response).toEqual({ object: "email_address", id: firstEmailId, deleted: true });
    expect(removed.body.client!.sessions[0]!.user.email_addresses.map((e) => e.id)).toEqual([address.id]);

    // The Backend API and the webhooks agree: one verified address, the new one primary.
    const backend = await backendUser(userId);
    expect(backend.body.primary_email_address_id).toBe(address.id);
    expect(backend.body.email_addresses).toEqual([
      expect.objectContaining({
        object: "email_address",
        id: address.id,
        email_address: "second@example.test",
        verification: expect.objectContaining({ status: "verified" }),
      }),
    ]);
    await env.receiver.waitFor((r) => r.length >= 4);
    await env.idp.whenDelivered(5_000);
    const sent = events(env.receiver.received);
    expect(sent.map((e) => e.type)).toEqual(["user.updated", "user.updated", "user.updated", "user.updated"]);
    expect(sent.map((e) => e.data.id)).toEqual([userId, userId, userId, userId]);
    const stamps = sent.map((e) => e.data.updated_at);
    expect([...stamps].sort((a, b) => a - b)).toEqual(stamps);
    expect(new Set(stamps).size).toBe(4);
    expect(sent[1]!.data.email_addresses[1]?.verification.status).toBe("verified");
    expect(sent[2]!.data.primary_email_address_id).toBe(address.id);
    expect(sent[3]!.data).toMatchObject({
      primary_email_address_id: address.id,
      email_addresses: [{ id: address.id, email_address: "second@example.test" }],
    });
    expect(env.receiver.received[3]!.headers["svix-signature"]).toMatch(/^v1,/);
    // No payload carries anything of a code (its hash stays with the IdP).
    expect(Object.keys(sent[0]!.data.email_addresses[1]!.verification).sort()).toEqual([
      "attempts",
      "expire_at",
      "status",
      "strategy",
    ]);

    // Sign-in follows the addresses: the new one works, the removed one is unknown.
    await signInWithPassword(fapiClient(env.idp.url), "second@example.test", "long enough");
    expectError(
      await fapiClient(env.idp.url).call("POST", "/client/sign_ins", { identifier: email }),
      422,
      "form_identifier_not_found",
      "identifier",
    );
  });

  it("refuses a taken, invalid or missing address with Clerk's errors, changing nothing", async () => {
    const { fapi, sessionId, userId, email } = await freshUser();
    const api = me(fapi, sessionId);
    const before = await backendUser(userId);

    expectError(
      await api.add({ email_address: "PRO@gatehouse.test" }),
      422,
      "form_identifier_exists",
      "email_address",
    );
    expectError(await api.add({ email_address: email }), 422, "form_identifier_exists", "email_address");
    for (const bad of ["not-an-email", "a@", "@b.test", "two@@x.test", "sp ace@x.test", "<script>@x.test"]) {
      expectError(await api.add({ email_address: bad }), 422, "form_param_format_invalid", "email_address");
    }
    expectError(await api.add({}), 422, "form_param_missing", "email_address");
    expectError(await api.add({ email_address: "" }), 422, "form_param_missing", "email_address");
    expectError(
      await api.add({ email_address: `${"x".repeat(300)}@x.test` }),
      422,
      "form_param_exceeds_allowed_size",
      "email_address",
    );
    expectError(
      await api.add({ email_address: "ok@x.test", primary: "true" }),
      422,
      "form_param_unknown",
      "primary",
    );
    expectError(
      await api.prepare("idn_nope", { strategy: "email_link" }),
      422,
      "form_param_value_invalid",
      "strategy",
    );
    expectError(await api.attempt("idn_nope", ""), 422, "form_param_missing", "code");
    expectError(
      await api.attempt("idn_nope", "1".repeat(100)),
      422,
      "form_param_exceeds_allowed_size",
      "code",
    );

    expect((await backendUser(userId)).body).toEqual(before.body);
    expect(await env.deliveredWebhooks()).toEqual([]);
  });

  it("limits a code's attempts, expires it, and a new code replaces the old", async () => {
    const { fapi, sessionId } = await freshUser();
    const api = me(fapi, sessionId);
    const id = (await api.add({ email_address: "limits@example.test" })).body.response.id;
    expectError(await api.attempt(id, "123456"), 422, "verification_missing", "code");

    await api.prepare(id);
    const first = await latestCode(env.idp, "limits@example.test");
    for (let i = 0; i < MAX_CODE_ATTEMPTS; i++) {
      expectError(await api.attempt(id, wrongCode(first)), 422, "form_code_incorrect", "code");
    }
    expectError(await api.attempt(id, first), 422, "verification_failed", "code");
    expect((await api.get(id)).body.response.verification?.status).toBe("failed");

    await api.prepare(id);
    const second = await latestCode(env.idp, "limits@example.test");
    clock += CODE_LIFETIME_MS;
    expectError(await api.attempt(id, second), 422, "verification_expired", "code");

    await api.prepare(id);
    const third = await latestCode(env.idp, "limits@example.test");
    expect((await api.attempt(id, third)).body.response.verification?.status).toBe("verified");
    expectError(await api.prepare(id), 422, "verification_already_verified");
  });

  it("makes only the caller's own verified address primary, and never deletes the primary", async () => {
    const { fapi, sessionId, userId, firstEmailId } = await freshUser();
    const api = me(fapi, sessionId);
    const unverified = (await api.add({ email_address: "pending@example.test" })).body.response.id;
    const pro = fapiClient(env.idp.url);
    const proSession = await signInWithPassword(pro, "pro@gatehouse.test", SEED_PASSWORD);
    const proEmailId = (await me(pro, proSession).patch({})).body.response.primary_email_address_id;
    await env.forgetWebhooks();
    const before = await backendUser(userId);

    for (const id of [unverified, proEmailId, "idn_made_up", "__proto__"]) {
      const refused = await api.patch({ primary_email_address_id: id });
      expectError(refused, 422, "form_param_value_invalid");
      // A field-less error: clerk-js shows it in the card's alert (with a param_name, nowhere).
      expect((refused.body as unknown as ErrorBody).errors[0]?.meta).toEqual({});
    }
    expectError(await api.remove(firstEmailId), 422, "identification_deletion_failed");
    expect((await backendUser(userId)).body).toEqual(before.body);
    expect(await env.deliveredWebhooks()).toEqual([]);

    // An unverified address can be removed.
    expect((await api.remove(unverified)).status).toBe(200);
  });

  it("answers 404 for another user's address and 401 when signed out", async () => {
    const alice = await freshUser();
    const bob = await freshUser();
    const aliceApi = me(alice.fapi, alice.sessionId);
    const pendingId = (await aliceApi.add({ email_address: "alice-two@example.test" })).body.response.id;
    await aliceApi.prepare(pendingId);
    const code = await latestCode(env.idp, "alice-two@example.test");
    await env.forgetWebhooks();

    const bobApi = me(bob.fapi, bob.sessionId);
    for (const id of [pendingId, alice.firstEmailId]) {
      expectError(await bobApi.get(id), 404, "resource_not_found");
      expectError(await bobApi.prepare(id), 404, "resource_not_found");
      expectError(await bobApi.attempt(id, code), 404, "resource_not_found");
      expectError(await bobApi.remove(id), 404, "resource_not_found");
    }
    const stranger = fapiClient(env.idp.url);
    expectError(
      await stranger.call("POST", "/me/email_addresses/", { email_address: "x@example.test" }),
      401,
      "signed_out",
    );
    expectError(await me(stranger, alice.sessionId).remove(pendingId), 401, "signed_out");
    expect((await backendUser(alice.userId)).body.email_addresses).toHaveLength(2);
    expect(await env.deliveredWebhooks()).toEqual([]);
    // Alice's code still works: Bob's tries did not count against it.
    expect((await aliceApi.attempt(pendingId, code)).status).toBe(200);
  });

  it("an address someone else verified first can no longer be verified (nor added)", async () => {
    const { fapi, sessionId } = await freshUser();
    const api = me(fapi, sessionId);
    const id = (await api.add({ email_address: "contested@example.test" })).body.response.id;
    await api.prepare(id);
    const code = await latestCode(env.idp, "contested@example.test");
    // Not verified, so it is nobody's yet: a sign-up with it goes through.
    const other = fapiClient(env.idp.url);
    const signUp = await signUpWithCode(other, env.idp, {
      email_address: "contested@example.test",
      password: "long enough",
    });
    expect(signUp.body.response.status).toBe("complete");
    expectError(await api.attempt(id, code), 422, "form_identifier_exists", "email_address");
    const later = await freshUser();
    expectError(
      await me(later.fapi, later.sessionId).add({ email_address: "contested@example.test" }),
      422,
      "form_identifier_exists",
      "email_address",
    );
  });

  it("a verified secondary address signs in, and is taken for sign-ups", async () => {
    const { fapi, sessionId } = await freshUser();
    await addVerified(fapi, sessionId, "secondary@example.test");
    await signInWithPassword(fapiClient(env.idp.url), "secondary@example.test", "long enough");
    expectError(
      await fapiClient(env.idp.url).call("POST", "/client/sign_ups", {
        email_address: "secondary@example.test",
        password: "long enough",
      }),
      422,
      "form_identifier_exists",
      "email_address",
    );
  });
});
