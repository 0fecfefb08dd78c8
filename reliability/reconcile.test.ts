/**
 * Webhooks lost for good: the IdP's webhook URL points at a dead port while users are created,
 * changed and deleted through the Backend API, so every delivery exhausts its retries and is
 * dropped. `admin.reconcileUsers`, called by an admin over the real ConvexClient, must then make
 * the users table equal the IdP's users exactly, tombstone the deleted ones (and drop their posts),
 * audit every repair, and change nothing on a second run.
 */
import type { ConvexClient } from "convex/browser";
import { afterAll, beforeAll, expect, test } from "vitest";
import { api } from "../convex/_generated/api";
import {
  BILLING_EVENTS_PER_SIGN_UP,
  granted,
  backendUsers,
  closeClients,
  compareUsers,
  connectClient,
  createAdmin,
  freePort,
  idpUsers,
  report,
  seededRandom,
  pick,
  signUp,
  startStack,
  type Account,
  type ClientLog,
  type Stack,
} from "./harness.ts";

const BASELINE = 30;
const NEW_IN_OUTAGE = 15;

let stack: Stack;
const clients: ConvexClient[] = [];

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await closeClients(clients);
  await stack?.dispose();
});

test("after webhooks were dropped, admin.reconcileUsers makes the users table equal the IdP's users", async () => {
  const started = performance.now();
  const { idp, clerk, backend } = stack;
  const { seed, next: rng } = seededRandom("reconcile");
  const log: ClientLog = { warnings: [], errors: [] };
  const admin: Account = await createAdmin(stack);
  const adminClient = await connectClient(backend.url, admin, log);
  clients.push(adminClient);

  // Baseline, synced by webhooks as usual; one of the users about to be deleted has a public post.
  const baseline = await Promise.all(
    Array.from({ length: BASELINE }, (_, i) =>
      signUp(idp, { email: `base${i}@gatehouse.test`, firstName: "Base", lastName: `${i}` }),
    ),
  );
  await idp.whenDelivered(30_000);
  const doomedAuthor = await connectClient(backend.url, baseline[0]!, log);
  clients.push(doomedAuthor);
  const doomedPost = await doomedAuthor.mutation(api.posts.create, {
    title: "by a user deleted while webhooks were down",
    body: "",
    visibility: "public",
  });
  await doomedAuthor.close();
  expect(
    compareUsers(await backendUsers(backend.url, admin), await idpUsers(clerk), new Set()).mismatches,
  ).toEqual([]);

  // The outage: every delivery from here on fails until the IdP gives up on it.
  const before = idp.deliveryStats();
  idp.setWebhookUrl(`http://127.0.0.1:${await freePort()}/clerk-users-webhook`);
  let changes = 0;
  const role = () => pick(rng, ["user", "admin"] as const);
  const plan = () => pick(rng, ["free_user", "pro"] as const);

  const deletedKnown = new Set<string>([baseline[0]!.userId]);
  for (const account of baseline.slice(1, 8)) deletedKnown.add(account.userId);
  const updatedKnown = baseline.slice(8, 18);
  for (const [i, account] of updatedKnown.entries()) {
    await clerk.users.updateUserMetadata(account.userId, {
      publicMetadata: { role: role(), ...granted(plan()) },
    });
    changes++;
    if (i % 3 === 0) {
      await clerk.users.replaceUserMetadata(account.userId, { publicMetadata: granted("pro") });
      changes++;
    }
  }
  for (const id of deletedKnown) {
    await clerk.users.deleteUser(id);
    changes++;
  }
  const created = await Promise.all(
    Array.from({ length: NEW_IN_OUTAGE }, (_, i) =>
      signUp(idp, {
        email: `outage${i}@gatehouse.test`,
        firstName: i % 4 === 0 ? "" : "Out",
        lastName: `${i}`,
      }),
    ),
  );
  changes += created.length;
  for (const account of created.slice(0, 5)) {
    await clerk.users.updateUserMetadata(account.userId, {
      publicMetadata: { ...granted("pro"), role: role() },
    });
    changes++;
  }
  // Two new users use the app before any webhook: provisional rows copied from their tokens.
  for (const account of created.slice(5, 7)) {
    const client = await connectClient(backend.url, account, log);
    clients.push(client);
    await client.mutation(api.users.ensure, {});
    await client.close();
  }
  await clerk.users.updateUserMetadata(created[6]!.userId, { publicMetadata: granted("pro") });
  changes++;
  // Users who came and went entirely during the outage: the backend never heard of them.
  const ghosts: string[] = [];
  for (let i = 0; i < 3; i++) {
    const ghost = await signUp(idp, { email: `ghost${i}@gatehouse.test` });
    await clerk.users.deleteUser(ghost.userId);
    ghosts.push(ghost.userId);
    changes += 2;
  }
  await idp.whenDelivered(60_000);
  const dropped = idp.deliveryStats().dropped - before.dropped;

  const usersBefore = await idpUsers(clerk);
  const drift = compareUsers(await backendUsers(backend.url, admin), usersBefore, deletedKnown).mismatches;

  const reconcileStarted = performance.now();
  const summary = await adminClient.action(api.admin.reconcileUsers, {});
  const reconcileMs = performance.now() - reconcileStarted;

  const rows = await backendUsers(backend.url, admin);
  const users = await idpUsers(clerk);
  const result = compareUsers(rows, users, deletedKnown);
  const knownIds = new Set(rows.map((r) => r.clerkId));
  const feed = await adminClient.query(api.posts.listPublic, {
    paginationOpts: { numItems: 100, cursor: null },
  });
  const audit = await adminClient.query(api.admin.auditLog, {
    paginationOpts: { numItems: 100, cursor: null },
  });
  const audited = (action: string) => audit.page.filter((e) => e.action === action).length;
  const second = await adminClient.action(api.admin.reconcileUsers, {});

  const expectedCreated = NEW_IN_OUTAGE - 2; // the two provisional rows already existed
  const expectedUpdated = updatedKnown.length + 2;
  report(
    `reliability/reconcile: ${changes} changes while webhooks were down, ${dropped} deliveries dropped after retries, ` +
      `${drift.length} drift findings; reconcileUsers in ${reconcileMs.toFixed(0)} ms: ${summary.clerkUsers} Clerk users, ` +
      `${summary.created} created, ${summary.updated} updated, ${summary.deleted} tombstoned, ${summary.unchanged} unchanged, ` +
      `${summary.subscriptionsRepaired} subscriptions repaired; ` +
      `after: ${result.live} live rows equal the IdP, ${result.tombstoned}/${deletedKnown.size} deleted tombstoned, ` +
      `${ghosts.filter((g) => knownIds.has(g)).length}/${ghosts.length} never-seen deleted users have a row, ` +
      `${result.mismatches.length} mismatches; second run ${second.created}/${second.updated}/${second.deleted} ` +
      `created/updated/tombstoned; ${log.errors.length} client errors; total ${((performance.now() - started) / 1000).toFixed(1)} s (seed ${seed})`,
  );

  // Every change, and the billing events of every sign-up during the outage, was dropped.
  expect(dropped).toBe(changes + BILLING_EVENTS_PER_SIGN_UP * (created.length + ghosts.length));
  expect(drift.length).toBeGreaterThan(0);
  expect(result.mismatches).toEqual([]);
  expect(result.tombstoned).toBe(deletedKnown.size);
  expect(ghosts.filter((g) => knownIds.has(g))).toEqual([]);
  expect(summary).toEqual({
    clerkUsers: users.length,
    created: expectedCreated,
    updated: expectedUpdated,
    deleted: deletedKnown.size,
    unchanged: users.length - expectedCreated - expectedUpdated,
    invalid: 0,
    // Each sign-up's free subscription item, whose billing events were dropped, read from Clerk.
    subscriptionsRepaired: created.length,
    billing: "checked",
  });
  // The deleted author's post went with the tombstone.
  expect(feed.page.map((p) => p._id)).not.toContain(doomedPost);
  // Every repair is audited.
  expect([
    audited("reconcile.created"),
    audited("reconcile.updated"),
    audited("reconcile.deleted"),
    audited("reconcile.billing"),
  ]).toEqual([expectedCreated, expectedUpdated, deletedKnown.size, created.length]);
  // Nothing left to repair.
  expect(second).toMatchObject({
    created: 0,
    updated: 0,
    deleted: 0,
    unchanged: users.length,
    subscriptionsRepaired: 0,
  });
  expect(log.errors).toEqual([]);
  expect(backend.errorLines()).toEqual([]);
});
