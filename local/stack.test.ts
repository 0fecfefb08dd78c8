/**
 * The whole offline loop with real parts only: the IdP mints Clerk-shaped tokens and sends
 * svix-signed webhooks; the local backend verifies both and runs the real convex/ functions;
 * clients are the unmodified `convex/browser` ConvexClient and `@clerk/backend`.
 */
import { createClerkClient } from "@clerk/backend";
import { ConvexError } from "convex/values";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { api } from "../convex/_generated/api";
import type { Backend } from "./backend/server.ts";
import { newClient, signIn, waitForValue } from "./backend/test.backend.ts";
import { idpClient } from "./idp/client.ts";
import type { TestIdp } from "./idp/test.idp.ts";
import { startTestStack, type TestStack } from "./test.stack.ts";

let idp: TestIdp;
let backend: Backend;
let stack: TestStack;
const clients: { close: () => Promise<void> }[] = [];

beforeAll(async () => {
  stack = await startTestStack();
  ({ idp, backend } = stack);
  await idp.seed();
  await idp.whenDelivered(10_000);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await stack?.dispose();
});

/** A ConvexClient signed in through the IdP, refreshing tokens the way Clerk's getToken does. */
async function clientFor(session: { sessionId: string; token: string }) {
  const client = newClient(backend.url);
  clients.push(client);
  const idpApi = idpClient(idp.url, { secretKey: idp.secretKey });
  let first = true;
  const ok = await signIn(client, async () => {
    if (first) {
      first = false;
      return session.token;
    }
    return await idpApi.token(session.sessionId);
  });
  expect(ok).toBe(true);
  return client;
}

function codeOf(error: unknown) {
  return error instanceof ConvexError ? (error.data as { code: string }).code : String(error);
}

describe("sign-up → verified webhook → users row → privileges", () => {
  test("a new account appears in users through a real webhook and users.me returns it", async () => {
    const signedUp = await idpClient(idp.url, { secretKey: idp.secretKey }).signUp({
      email: "newcomer@gatehouse.test",
      password: "correct horse battery",
      firstName: "New",
      lastName: "Comer",
    });
    const client = await clientFor(signedUp);
    const me = await waitForValue<{ synced: boolean; email: string; plan: string; clerkId: string } | null>(
      (cb) => client.onUpdate(api.users.me, {}, cb),
      (v) => v?.synced === true,
    );
    expect(me).toMatchObject({
      clerkId: signedUp.userId,
      email: "newcomer@gatehouse.test",
      name: "New Comer",
      role: "user",
      plan: "free_user",
    });
  });

  test("admin.setPlan goes through @clerk/backend to the IdP, and its webhook changes the row and the viewer's privileges", async () => {
    const idpApi = idpClient(idp.url, { secretKey: idp.secretKey });
    const member = await idpApi.signUp({
      email: "upgrade@gatehouse.test",
      password: "correct horse battery",
    });
    const memberClient = await clientFor(member);
    await waitForValue<{ synced: boolean } | null>(
      (cb) => memberClient.onUpdate(api.users.me, {}, cb),
      (v) => !!v?.synced,
    );
    await expect(memberClient.query(api.insights.overview, {})).rejects.toSatisfy(
      (e: unknown) => codeOf(e) === "UPGRADE_REQUIRED",
    );

    const admin = await clientFor(await idpApi.signIn("admin@gatehouse.test", "gatehouse-dev"));
    await admin.action(api.admin.setPlan, { clerkId: member.userId, plan: "pro" });

    // The member's live subscription flips to pro when the user.updated webhook lands; their token still says free.
    await waitForValue<{ plan: string } | null>(
      (cb) => memberClient.onUpdate(api.users.me, {}, cb),
      (v) => v?.plan === "pro",
    );
    expect(await memberClient.query(api.insights.overview, {})).toMatchObject({ total: 0 });

    const clerk = createClerkClient({ secretKey: idp.secretKey, apiUrl: idp.url });
    expect((await clerk.users.getUser(member.userId)).publicMetadata).toMatchObject({ plan: "pro" });
    const audit = await admin.query(api.admin.auditLog, { paginationOpts: { numItems: 10, cursor: null } });
    expect(audit.page.map((e) => e.action)).toEqual(
      expect.arrayContaining(["admin.setPlan", "clerk.user.updated"]),
    );
  });

  test("a user deleted in Clerk is denied at once, with a still-valid token", async () => {
    const idpApi = idpClient(idp.url, { secretKey: idp.secretKey });
    const doomed = await idpApi.signUp({ email: "doomed@gatehouse.test", password: "correct horse battery" });
    const client = await clientFor(doomed);
    await waitForValue<{ synced: boolean } | null>(
      (cb) => client.onUpdate(api.users.me, {}, cb),
      (v) => !!v?.synced,
    );
    await client.mutation(api.posts.create, { title: "soon gone", body: "" });

    const clerk = createClerkClient({ secretKey: idp.secretKey, apiUrl: idp.url });
    await clerk.users.deleteUser(doomed.userId);
    await idp.whenDelivered(10_000);

    await expect(
      client.query(api.posts.listMine, { paginationOpts: { numItems: 5, cursor: null } }),
    ).rejects.toSatisfy((e: unknown) => codeOf(e) === "UNAUTHENTICATED");
    const admin = await clientFor(await idpApi.signIn("admin@gatehouse.test", "gatehouse-dev"));
    const users = await admin.query(api.admin.listUsers, { paginationOpts: { numItems: 50, cursor: null } });
    expect(users.page.find((u) => u.clerkId === doomed.userId)?.deletedAt).toBeTypeOf("number");
  });

  test("seeded accounts were synced by webhooks, with their roles and plans", async () => {
    const admin = await clientFor(
      await idpClient(idp.url, { secretKey: idp.secretKey }).signIn("admin@gatehouse.test", "gatehouse-dev"),
    );
    const users = await admin.query(api.admin.listUsers, { paginationOpts: { numItems: 50, cursor: null } });
    const byEmail = Object.fromEntries(users.page.map((u) => [u.email, u]));
    expect(byEmail["admin@gatehouse.test"]).toMatchObject({ role: "admin", plan: "pro", synced: true });
    expect(byEmail["pro@gatehouse.test"]).toMatchObject({ role: "user", plan: "pro", synced: true });
    expect(byEmail["free@gatehouse.test"]).toMatchObject({ role: "user", plan: "free_user", synced: true });
  });
});
