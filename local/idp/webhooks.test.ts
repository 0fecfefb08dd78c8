import { createClerkClient } from "@clerk/backend";
import { rmSync } from "node:fs";
import { Webhook } from "svix";
import { afterEach, describe, expect, it } from "vitest";
import { idpClient } from "./client.ts";
import { SEEDED_ACCOUNTS } from "./config.ts";
import { generateDevSecrets } from "./secrets.ts";
import {
  eventually,
  memoryLogger,
  startTestIdp,
  startWebhookReceiver,
  tempDataDir,
  type ReceivedWebhook,
  type TestIdp,
  type WebhookReceiver,
} from "./test.idp.ts";
import { createSigner } from "./webhooks/sign.ts";

interface Envelope {
  type: string;
  object: string;
  timestamp: number;
  instance_id: string;
  event_attributes: unknown;
  data: { id: string; updated_at?: number; deleted?: boolean; object: string; public_metadata?: unknown };
}

/** This file's IdPs all sign with one secret, random per run, so deliveries can be checked against it. */
const WEBHOOK_SECRET = generateDevSecrets().webhookSecret;

/** Billing events share each user's lane (billing/billing.ts): what a new user gets after `user.created`. */
const NEW_PAYER = ["subscription.created", "subscriptionItem.active", "subscription.active"];

/** The deliveries of `user.*` events (billing's are tested in billing/webhooks.test.ts). */
const userDeliveries = (received: ReceivedWebhook[]) =>
  received.filter((w) => (JSON.parse(w.body) as { type: string }).type.startsWith("user."));

/** Verifies one delivery exactly as the backend's http action does, with the real svix verifier. */
function verify(webhook: ReceivedWebhook, secret = WEBHOOK_SECRET): Envelope {
  const header = (name: string) => String(webhook.headers[name] ?? "");
  return new Webhook(secret).verify(webhook.body, {
    "svix-id": header("svix-id"),
    "svix-timestamp": header("svix-timestamp"),
    "svix-signature": header("svix-signature"),
  }) as Envelope;
}

// Everything a test starts, stopped afterwards even when it fails.
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
async function receiver(): Promise<WebhookReceiver> {
  const r = await startWebhookReceiver();
  cleanups.push(() => r.close());
  return r;
}
async function idpWith(options: Parameters<typeof startTestIdp>[0]): Promise<TestIdp> {
  const idp = await startTestIdp({ webhookSecret: WEBHOOK_SECRET, ...options });
  cleanups.push(() => idp.dispose());
  return idp;
}

describe("svix signing", () => {
  it("reproduces svix's official test vector through the IdP's signing path", () => {
    const sign = createSigner("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    const headers = sign("msg_p5jXN8AQM9LWM0D4loKWxJek", new Date(1614265330 * 1000), '{"test": 2432232314}');
    expect(headers).toEqual({
      "svix-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
      "svix-timestamp": "1614265330",
      "svix-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    });
  });

  it("refuses a malformed secret at start-up", async () => {
    await expect(
      startTestIdp({ webhookSecret: "whsec_%%%not-base64", webhookUrl: "http://127.0.0.1:9/x" }),
    ).rejects.toThrow();
  });
});

describe("user.* webhooks", () => {
  it("sends created, updated and deleted in order, in Clerk's envelope, verifiable with svix (billing's in the same lane)", async () => {
    const hook = await receiver();
    const idp = await idpWith({ webhookUrl: hook.url });
    const clerk = createClerkClient({ secretKey: idp.secretKey, apiUrl: idp.url });

    const { userId } = await idpClient(idp.url, { secretKey: idp.secretKey }).signUp({
      email: "hook@example.test",
      password: "long enough",
    });
    await clerk.users.updateUserMetadata(userId, { publicMetadata: { role: "admin" } });
    await clerk.users.updateUserMetadata(userId, { publicMetadata: { plan: "pro" } });
    await clerk.users.deleteUser(userId);
    await idp.whenDelivered(5_000);

    expect(hook.received.map((w) => verify(w).type)).toEqual([
      "user.created",
      ...NEW_PAYER,
      "user.updated",
      "user.updated",
      "user.deleted",
    ]);
    for (const webhook of hook.received) {
      expect(webhook.headers["content-type"]).toBe("application/json");
      expect(webhook.headers["svix-id"]).toMatch(/^msg_[0-9A-Za-z]{27}$/);
      expect(Number(webhook.headers["svix-timestamp"])).toBeCloseTo(Date.now() / 1000, -1);
    }
    expect(new Set(hook.received.map((w) => w.headers["svix-id"])).size).toBe(7);

    const events = userDeliveries(hook.received).map((w) => verify(w));
    const [created, updated, updatedAgain, deleted] = events;
    expect(created).toMatchObject({
      object: "event",
      instance_id: expect.stringMatching(/^ins_/),
      event_attributes: { http_request: { client_ip: "127.0.0.1", user_agent: "gatehouse-local-idp" } },
      data: { object: "user", id: userId, public_metadata: {} },
    });
    expect(typeof created?.timestamp).toBe("number");
    expect(updated?.data.public_metadata).toEqual({ role: "admin" });
    expect(updatedAgain?.data.public_metadata).toEqual({ role: "admin", plan: "pro" });
    expect(updated?.data.updated_at).toBeGreaterThan(created?.data.updated_at ?? Infinity);
    expect(updatedAgain?.data.updated_at).toBeGreaterThan(updated?.data.updated_at ?? Infinity);
    expect(deleted?.data).toEqual({ object: "user", id: userId, deleted: true });
    expect(idp.deliveryStats()).toMatchObject({ pending: 0, delivered: 7, failedAttempts: 0, dropped: 0 });
  });

  it("does not verify under another secret", async () => {
    const hook = await receiver();
    const idp = await idpWith({ webhookUrl: hook.url });
    await idpClient(idp.url, { secretKey: idp.secretKey }).signUp({
      email: "secret@example.test",
      password: "long enough",
    });
    await idp.whenDelivered(5_000);
    const other = "whsec_" + Buffer.from("another-32-byte-secret-for-tests").toString("base64");
    expect(() => verify(hook.received[0] as ReceivedWebhook, other)).toThrow();
  });

  it("sends a user.created per seeded account", async () => {
    const hook = await receiver();
    const idp = await idpWith({ webhookUrl: hook.url, seed: true });
    await idp.whenDelivered(5_000);
    const events = userDeliveries(hook.received).map((w) => verify(w));
    expect(events.map((e) => e.type)).toEqual(SEEDED_ACCOUNTS.map(() => "user.created"));
    expect(events.map((e) => e.data.public_metadata)).toEqual(
      SEEDED_ACCOUNTS.map(({ role, plan, planOverride }) => ({
        role,
        plan,
        ...(planOverride && { planOverride }),
      })),
    );
  });

  it("retries a failed delivery with the same svix-id, re-signed, until it succeeds", async () => {
    const hook = await receiver();
    hook.respond = (n) => (n <= 2 ? 500 : 200);
    const logger = memoryLogger();
    const idp = await idpWith({ webhookUrl: hook.url, logger });

    await idpClient(idp.url, { secretKey: idp.secretKey }).signUp({
      email: "retry@example.test",
      password: "long enough",
    });
    await idp.whenDelivered(5_000);

    const attempts = userDeliveries(hook.received);
    expect(attempts.map((w) => w.status)).toEqual([500, 500, 200]);
    const ids = new Set(attempts.map((w) => w.headers["svix-id"]));
    expect(ids.size).toBe(1);
    expect(new Set(attempts.map((w) => w.body)).size).toBe(1); // the same bytes each time
    for (const attempt of attempts) expect(verify(attempt).type).toBe("user.created");
    const [id] = [...ids];
    expect(logger.lines).toEqual([
      expect.stringMatching(new RegExp(`${String(id)} user\\.created attempt 1/6 failed \\(HTTP 500\\)`)),
      expect.stringMatching(new RegExp(`${String(id)} user\\.created attempt 2/6 failed \\(HTTP 500\\)`)),
    ]);
    // The billing events waited behind it, then went through.
    expect(idp.deliveryStats()).toMatchObject({ pending: 0, delivered: 4, failedAttempts: 2, dropped: 0 });
  });

  it("keeps one user's events in order while an earlier one is being retried", async () => {
    const hook = await receiver();
    hook.respond = (n) => (n === 1 ? 503 : 200);
    const idp = await idpWith({ webhookUrl: hook.url });
    const clerk = createClerkClient({ secretKey: idp.secretKey, apiUrl: idp.url });

    const { userId } = await idpClient(idp.url, { secretKey: idp.secretKey }).signUp({
      email: "order@example.test",
      password: "long enough",
    });
    await clerk.users.updateUserMetadata(userId, { publicMetadata: { role: "admin" } });
    await idp.whenDelivered(5_000);

    expect(hook.received.map((w) => [verify(w).type, w.status])).toEqual([
      ["user.created", 503],
      ["user.created", 200],
      ...NEW_PAYER.map((type) => [type, 200]),
      ["user.updated", 200],
    ]);
  });

  it("gives up after maxAttempts and logs it, without holding up other users' messages", async () => {
    const hook = await receiver();
    hook.respond = (_n, body) =>
      body.includes('"user.created"') && body.includes("dropped@example.test") ? 500 : 200;
    const logger = memoryLogger();
    const idp = await idpWith({ webhookUrl: hook.url, logger, maxAttempts: 3, retryDelaysMs: [300] });
    const client = idpClient(idp.url, { secretKey: idp.secretKey });
    await client.signUp({ email: "dropped@example.test", password: "long enough" });
    await client.signUp({ email: "fine@example.test", password: "long enough" });
    await eventually(() => idp.deliveryStats().delivered === 4);
    // The other user's messages went through while the failing one (and those behind it) wait.
    expect(idp.deliveryStats()).toMatchObject({ pending: 4, dropped: 0 });
    await idp.whenDelivered(5_000);

    expect(
      userDeliveries(hook.received)
        .map((w) => w.status)
        .sort(),
    ).toEqual([200, 500, 500, 500]);
    // Given up on, the failing message no longer holds up its own lane either.
    expect(idp.deliveryStats()).toMatchObject({ pending: 0, delivered: 7, failedAttempts: 3, dropped: 1 });
    expect(logger.lines.at(-1)).toMatch(/user\.created attempt 3\/3 failed \(HTTP 500\); giving up/);
  });

  it("whenDelivered rejects after its timeout while the receiver is down", async () => {
    const down = await startWebhookReceiver();
    await down.close(); // nothing listens on its port now
    const idp = await idpWith({ webhookUrl: down.url });
    await idpClient(idp.url, { secretKey: idp.secretKey }).signUp({
      email: "down@example.test",
      password: "long enough",
    });
    await expect(idp.whenDelivered(100)).rejects.toThrow(/undelivered/);
    expect(idp.pendingDeliveries()).toBe(1 + NEW_PAYER.length);
  });

  it("keeps undelivered messages across an IdP restart and delivers them afterwards", async () => {
    const dataDir = tempDataDir();
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const down = await startWebhookReceiver();
    await down.close();
    const logger = memoryLogger();

    const first = await startTestIdp({
      dataDir,
      webhookSecret: WEBHOOK_SECRET,
      webhookUrl: down.url,
      logger,
    });
    const { userId } = await idpClient(first.url, { secretKey: first.secretKey }).signUp({
      email: "restart@example.test",
      password: "long enough",
    });
    await createClerkClient({ secretKey: first.secretKey, apiUrl: first.url }).users.updateUserMetadata(
      userId,
      {
        publicMetadata: { plan: "pro" },
      },
    );
    await expect(first.whenDelivered(150)).rejects.toThrow();
    await first.close();
    expect(logger.lines[0]).toMatch(/user\.created attempt 1\/6 failed \(ECONNREFUSED\)/);
    const firstId = /webhook (msg_\w+) /.exec(logger.lines[0] ?? "")?.[1];

    const hook = await receiver();
    const second = await idpWith({ dataDir, webhookUrl: hook.url });
    expect(second.pendingDeliveries()).toBeGreaterThan(0);
    await second.whenDelivered(5_000);
    expect(hook.received.map((w) => verify(w).type)).toEqual(["user.created", ...NEW_PAYER, "user.updated"]);
    expect(hook.received[0]?.headers["svix-id"]).toBe(firstId);
    expect(second.pendingDeliveries()).toBe(0);
  });

  it("can be pointed at a receiver after start, and records nothing without one", async () => {
    const idp = await idpWith({});
    await idpClient(idp.url, { secretKey: idp.secretKey }).signUp({
      email: "quiet@example.test",
      password: "long enough",
    });
    expect(idp.pendingDeliveries()).toBe(0);

    const hook = await receiver();
    idp.setWebhookUrl(hook.url);
    expect(await idp.seed()).toHaveLength(3);
    await idp.whenDelivered(5_000);
    expect(userDeliveries(hook.received)).toHaveLength(3);
  });
});
