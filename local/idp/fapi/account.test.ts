import { describe, expect, it } from "vitest";
import { SEED_PASSWORD } from "../config.ts";
import { callAsBackend } from "../test.idp.ts";
import type { EnvironmentWire } from "./environment.ts";
import type {
  ClientWire,
  DeletedObjectWire,
  SessionWire,
  SessionWithActivitiesWire,
  UserWire,
} from "./json.ts";
import {
  APP_ORIGIN,
  asClerk,
  expectClerkError as expectError,
  fapiClient,
  idpWithWebhooks,
  signInWithPassword,
  signUpFreshUser,
  type Envelope,
  type FapiTestClient,
} from "./test.fapi.ts";

const CHROME =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/150.0.0.0 Safari/537.36";
const IPHONE =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1";

const tokenStatus = async (fapi: FapiTestClient, sessionId: string) =>
  (await fapi.call("POST", `/client/sessions/${sessionId}/tokens`, { organization_id: "" })).status;

describe("UserProfile account: delete account, revoke a device", () => {
  const env = idpWithWebhooks({ seed: true });

  /** A new user signed in from one browser (Chrome); their email and session. */
  async function freshUser() {
    const { fapi, email, sessionId, user } = await signUpFreshUser(env, {
      origin: APP_ORIGIN,
      userAgent: CHROME,
    });
    // clerk-js touches the new session (`select_session`), which is where the device is seen.
    await fapi.call("POST", `/client/sessions/${sessionId}/touch`, { intent: "select_session" });
    return { fapi, email, sessionId, userId: user.id };
  }

  /** The same user signed in from a second browser (an iPhone); its client and session. */
  async function secondDevice(email: string) {
    const fapi = fapiClient(env.idp.url, { origin: APP_ORIGIN, userAgent: IPHONE });
    const sessionId = await signInWithPassword(fapi, email, "long enough");
    await fapi.call("POST", `/client/sessions/${sessionId}/touch`, { intent: "select_session" });
    return { fapi, sessionId };
  }

  const active = (fapi: FapiTestClient, sessionId: string) =>
    fapi.call<SessionWithActivitiesWire[]>("GET", "/me/sessions/active", undefined, {
      _clerk_session_id: sessionId,
    });
  const revoke = (fapi: FapiTestClient, sessionId: string, target: string) =>
    fapi.call<Envelope<SessionWithActivitiesWire>>("POST", `/me/sessions/${target}/revoke`, undefined, {
      _clerk_session_id: sessionId,
    });

  it("offers Delete account: delete_self in the environment and on the user", async () => {
    const environment = await fapiClient(env.idp.url).call<Envelope<EnvironmentWire>>("GET", "/environment");
    expect(asClerk.environment(environment.body.response).user_settings.actions.delete_self).toBe(true);
    const { fapi, sessionId } = await freshUser();
    const me = await fapi.call<Envelope<UserWire>>("GET", "/me", undefined, { _clerk_session_id: sessionId });
    expect(asClerk.user(me.body.response).delete_self_enabled).toBe(true);
  });

  it("DELETE /v1/me deletes the user as the Backend API does: every session ends, user.deleted, this client signed out", async () => {
    const { fapi, email, sessionId, userId } = await freshUser();
    const other = await secondDevice(email);

    const res = await fapi.call<Envelope<DeletedObjectWire>>("DELETE", "/me", undefined, {
      _clerk_session_id: sessionId,
    });
    expect(res.status).toBe(200);
    expect(res.body.response).toEqual({ object: "user", id: userId, deleted: true });
    const client = asClerk.client(res.body.client!) as ClientWire;
    expect(client.sessions).toEqual([]);
    expect(client.last_active_session_id).toBeNull();

    expect(await tokenStatus(fapi, sessionId)).toBe(401);
    expect(await tokenStatus(other.fapi, other.sessionId)).toBe(401);
    const reload = await other.fapi.call<Envelope<ClientWire>>("GET", "/client");
    expect(reload.body.response.sessions).toEqual([]);
    const backend = await callAsBackend(env.idp, `/v1/users/${userId}`);
    expect(backend.status).toBe(404);
    await env.idp.whenDelivered(5_000);
    const sent = env.receiver.received.map((r) => JSON.parse(r.body) as { type: string; data: unknown });
    expect(sent).toEqual([
      expect.objectContaining({ type: "user.deleted", data: { object: "user", id: userId, deleted: true } }),
    ]);
    expect(env.receiver.received[0]!.headers["svix-signature"]).toMatch(/^v1,/);

    // Gone for good: its email is free, the deleted session cannot delete again.
    expectError(
      await fapiClient(env.idp.url).call("POST", "/client/sign_ins", { identifier: email }),
      422,
      "form_identifier_not_found",
    );
    expectError(
      await fapi.call("DELETE", "/me", undefined, { _clerk_session_id: sessionId }),
      401,
      "signed_out",
    );
  });

  it("DELETE /v1/me refuses a body and a signed-out client, deleting nothing", async () => {
    const { fapi, sessionId, userId } = await freshUser();
    const bad = await fapi.call("DELETE", "/me", { user_id: "user_other" }, { _clerk_session_id: sessionId });
    expectError(bad, 422, "form_param_unknown");
    expectError(await fapiClient(env.idp.url).call("DELETE", "/me"), 401, "signed_out");
    const backend = await callAsBackend(env.idp, `/v1/users/${userId}`);
    expect(backend.status).toBe(200);
    expect(await env.deliveredWebhooks()).toEqual([]);
  });

  it("lists the user's devices with browser and device, and revokes another one, whose tokens and touches then fail", async () => {
    const { fapi, email, sessionId } = await freshUser();
    const phone = await secondDevice(email);

    const listed = await active(fapi, sessionId);
    expect(listed.status).toBe(200);
    expect(listed.body.map((s) => s.id).sort()).toEqual([sessionId, phone.sessionId].sort());
    const mine = listed.body.find((s) => s.id === sessionId)!;
    const theirs = listed.body.find((s) => s.id === phone.sessionId)!;
    asClerk.sessionWithActivities(theirs);
    expect(mine.latest_activity).toMatchObject({
      browser_name: "Chrome",
      browser_version: "150",
      is_mobile: false,
    });
    expect(theirs).toMatchObject({ status: "active", user: null, last_active_token: null });
    expect(theirs.latest_activity).toMatchObject({
      browser_name: "Safari",
      browser_version: "18",
      is_mobile: true,
      ip_address: "127.0.0.1",
    });

    const revoked = await revoke(fapi, sessionId, phone.sessionId);
    expect(revoked.status).toBe(200);
    expect(revoked.body.response).toMatchObject({
      object: "session",
      id: phone.sessionId,
      status: "revoked",
    });
    // This browser stays signed in.
    expect(revoked.body.client!.sessions.map((s) => s.id)).toEqual([sessionId]);
    expect(await tokenStatus(fapi, sessionId)).toBe(200);

    // The phone is signed out: tokens and touch answer 401 signed_out, its client has no session.
    expectError(
      await phone.fapi.call("POST", `/client/sessions/${phone.sessionId}/tokens`, { organization_id: "" }),
      401,
      "signed_out",
    );
    expectError(
      await phone.fapi.call<Envelope<SessionWire>>("POST", `/client/sessions/${phone.sessionId}/touch`, {
        intent: "focus",
      }),
      401,
      "signed_out",
    );
    expect((await phone.fapi.call<Envelope<ClientWire>>("GET", "/client")).body.response.sessions).toEqual(
      [],
    );
    expect((await active(fapi, sessionId)).body.map((s) => s.id)).toEqual([sessionId]);
    // Revoking is no user change: no webhook.
    expect(await env.deliveredWebhooks()).toEqual([]);

    expectError(await revoke(fapi, sessionId, phone.sessionId), 404, "resource_not_found");
  });

  it("does not revoke another user's session (404, as for an unknown id) and needs a signed-in client", async () => {
    const { fapi, sessionId } = await freshUser();
    const pro = fapiClient(env.idp.url);
    const proSession = await signInWithPassword(pro, "pro@gatehouse.test", SEED_PASSWORD);
    for (const target of [proSession, "sess_doesnotexist", "__proto__", "%2e%2e"]) {
      expectError(await revoke(fapi, sessionId, target), 404, "resource_not_found");
    }
    expect(await tokenStatus(pro, proSession)).toBe(200);
    expect((await active(fapi, sessionId)).body.map((s) => s.id)).toEqual([sessionId]);
    expectError(await revoke(fapiClient(env.idp.url), proSession, proSession), 401, "signed_out");
    expectError(
      await fapi.call(
        "POST",
        `/me/sessions/${proSession}/revoke`,
        { extra: "1" },
        { _clerk_session_id: sessionId },
      ),
      422,
      "form_param_unknown",
    );
    expect(await tokenStatus(pro, proSession)).toBe(200);
  });
});
