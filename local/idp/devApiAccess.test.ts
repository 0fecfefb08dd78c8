/**
 * The dev API's shortcuts take the Backend API key. Before, any process on the machine could make a
 * *verified* account for any email without an email code (`/v1/dev/sign_up`), sign in, and mint
 * tokens for (or end) a session id it had seen. Clerk's own way to create users and sessions is its
 * Backend API, which takes the secret key; so do these now, through the same check as the Backend
 * API and the dev mailbox (`dispatch.ts`). A refusal is 401 `authentication_invalid` and changes
 * nothing: no user, no webhook, no counted sign-in failure, no token, no ended session.
 */
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { idpClient, type SignedIn } from "./client.ts";
import { startTestIdp, startWebhookReceiver, type TestIdp, type WebhookReceiver } from "./test.idp.ts";

const OWNER = "owner@example.test";
const PASSWORD = "owner-password";

interface ClerkErrors {
  errors: Array<{ code: string; message: string; long_message: string }>;
}

describe("dev API: the Backend API key, or nothing", () => {
  let idp: TestIdp;
  let hook: WebhookReceiver;
  let owner: SignedIn;

  beforeAll(async () => {
    hook = await startWebhookReceiver();
    // One failure backs the email off: a refused sign-in that counted would show as a 429 after it.
    idp = await startTestIdp({ webhookUrl: hook.url, signInLimits: { backoffAfterFailures: 1 } });
    owner = await keyed().signUp({ email: OWNER, password: PASSWORD });
    await idp.whenDelivered(5_000);
  });
  afterAll(async () => {
    await idp?.dispose();
    await hook?.close();
  });

  const keyed = () => idpClient(idp.url, { secretKey: idp.secretKey });

  async function userCount(): Promise<number> {
    const response = await fetch(`${idp.url}/v1/users/count`, {
      headers: { Authorization: `Bearer ${idp.secretKey}` },
    });
    return ((await response.json()) as { total_count: number }).total_count;
  }

  let intruders = 0;
  const routes = {
    sign_up: () => ({
      path: "/v1/dev/sign_up",
      body: { email: `intruder${++intruders}@example.test`, password: "long enough" },
    }),
    sign_in: () => ({ path: "/v1/dev/sign_in", body: { email: OWNER, password: "a wrong password" } }),
    tokens: () => ({ path: `/v1/dev/sessions/${owner.sessionId}/tokens`, body: undefined }),
    end: () => ({ path: `/v1/dev/sessions/${owner.sessionId}/end`, body: undefined }),
  };

  const credentials: Record<string, (idp: TestIdp) => string | undefined> = {
    "no Authorization": () => undefined,
    "a wrong key": () => "Bearer sk_test_not-the-key",
    "the webhook secret": (i) => `Bearer ${i.webhookSecret}`,
    "an empty bearer": () => "Bearer ",
    "the key without Bearer": (i) => i.secretKey,
    "the key with a suffix": (i) => `Bearer ${i.secretKey}x`,
  };

  const cases = Object.keys(routes).flatMap((route) =>
    Object.keys(credentials).map((credential) => [route as keyof typeof routes, credential] as const),
  );

  it.each(cases)("%s with %s: 401 authentication_invalid, nothing changes", async (route, credential) => {
    const usersBefore = await userCount();
    const webhooksBefore = hook.received.length;
    const { path, body } = routes[route]();
    const authorization = credentials[credential]!(idp);
    const headers: Record<string, string> = { Origin: "http://127.0.0.1:5173" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (authorization !== undefined) headers["Authorization"] = authorization;

    const response = await fetch(`${idp.url}${path}`, {
      method: "POST",
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });

    expect(response.status).toBe(401);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    const json = (await response.json()) as ClerkErrors;
    expect(json.errors).toEqual([
      {
        code: "authentication_invalid",
        message: "Unauthorized request",
        long_message: "The secret key in the Authorization header (Bearer) is missing or invalid.",
        meta: {},
      },
    ]);
    // No user and no user.created webhook.
    await idp.whenDelivered(5_000);
    expect(await userCount()).toBe(usersBefore);
    expect(hook.received.length).toBe(webhooksBefore);
    // The owner's session is still live, and the wrong password above counted as no failure: with
    // one failure the email would be backed off (429) now.
    expect(decodeJwt(await keyed().token(owner.sessionId)).sid).toBe(owner.sessionId);
    expect((await keyed().signIn(OWNER, PASSWORD)).userId).toBe(owner.userId);
  });

  it("an email refused without the key is still free: with the key it signs up, verified, with a webhook", async () => {
    const email = "refused-then-keyed@example.test";
    const refused = await fetch(`${idp.url}/v1/dev/sign_up`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email, password: "long enough" }),
    });
    expect(refused.status).toBe(401);

    const usersBefore = await userCount();
    const webhooksBefore = hook.received.length;
    const signedUp = await keyed().signUp({ email, password: "long enough" });
    expect(signedUp.userId).toMatch(/^user_/);
    expect(await userCount()).toBe(usersBefore + 1);
    type Created = {
      type: string;
      data: { id: string; email_addresses: Array<{ verification: { status: string } }> };
    };
    const created = () =>
      hook.received
        .slice(webhooksBefore)
        .map((w) => JSON.parse(w.body) as Created)
        .find((e) => e.type === "user.created"); // billing events follow it in the lane
    await hook.waitFor(() => created() !== undefined);
    const event = created()!;
    expect(event.data.id).toBe(signedUp.userId);
    expect(event.data.email_addresses[0]?.verification.status).toBe("verified");
  });

  it("with the key: sign-in, tokens and sign-out work", async () => {
    const client = keyed();
    const session = await client.signIn(OWNER, PASSWORD);
    expect(session.userId).toBe(owner.userId);
    expect(decodeJwt(await client.token(session.sessionId)).sub).toBe(owner.userId);
    await client.signOut(session.sessionId);
    const gone = await fetch(`${idp.url}/v1/dev/sessions/${session.sessionId}/tokens`, {
      method: "POST",
      headers: { Authorization: `Bearer ${idp.secretKey}` },
    });
    expect(gone.status).toBe(401);
    expect(((await gone.json()) as ClerkErrors).errors[0]?.code).toBe("session_not_active");
  });

  it("avatars stay public images: no key needed", async () => {
    const avatar = await fetch(`${idp.url}/v1/dev/avatars/${owner.userId}`);
    expect(avatar.status).toBe(200);
    expect(avatar.headers.get("content-type")).toBe("image/svg+xml");
  });

  it("the client refuses to be made without a key (an unset CLERK_SECRET_KEY read as empty)", () => {
    expect(() => idpClient(idp.url, { secretKey: "" })).toThrow(/secret key/);
  });
});
