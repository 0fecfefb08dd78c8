/**
 * 1 000 user events made against the IdP's real users — sign-ups (some reusing a deleted user's
 * email), role and plan changes (merge and replace) and renames through `@clerk/backend`, deletions — while
 * the IdP's svix-signed deliveries pass through a chaos proxy that fails, resets, delays,
 * reorders and duplicates them. At the end the backend's users table must equal the IdP's users
 * exactly, every deleted id must be tombstoned, and nothing may have failed on the way.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { ChaosProxy } from "./chaosProxy.ts";
import {
  backendUsers,
  BILLING_EVENTS_PER_SIGN_UP,
  compareUsers,
  createAdmin,
  granted,
  idpUsers,
  pick,
  report,
  seededRandom,
  signUp,
  startStack,
  type Account,
  type Stack,
} from "./harness.ts";

const EVENTS = 1_000;
const WORKERS = 6;

let stack: Stack;
let proxy: ChaosProxy | undefined;

beforeAll(async () => {
  // Generous attempts: injected failures must delay deliveries, never exhaust them.
  stack = await startStack({ retryDelaysMs: [50, 150, 400], maxAttempts: 40 });
});

afterAll(async () => {
  await proxy?.close();
  await stack?.dispose();
});

test("1 000 reordered, duplicated, delayed and failed webhooks converge to the IdP's users exactly", async () => {
  const started = performance.now();
  const { idp, clerk, backend } = stack;
  const admin: Account = await createAdmin(stack);
  const { seed, next: rng } = seededRandom("webhookChaos");

  proxy = await ChaosProxy.start({
    target: stack.webhookUrl,
    rng,
    failRate: 0.1,
    resetRate: 0.05,
    holdRate: 0.5,
    duplicateRate: 0.3,
    lostAckRate: 0.1,
    concurrentDuplicateRate: 0.1,
    maxHoldMs: 1_500,
  });
  idp.setWebhookUrl(proxy.url);

  const live = new Set<string>();
  const busy = new Set<string>();
  const deleted = new Set<string>();
  const deletedEmails: string[] = [];
  const emailOf = new Map<string, string>();
  const counts = {
    created: 0,
    recreatedEmail: 0,
    patch: 0,
    rename: 0,
    replace: 0,
    deleted: 0,
    failed: [] as string[],
  };
  let issued = 0;
  let emailSeq = 0;

  const role = () => pick(rng, ["user", "admin", "user"] as const);
  const plan = () => pick(rng, ["free_user", "pro"] as const);

  const create = async () => {
    let email = `chaos${emailSeq++}@gatehouse.test`;
    if (deletedEmails.length > 0 && rng() < 0.2) {
      email = deletedEmails.splice(Math.floor(rng() * deletedEmails.length), 1)[0]!;
      counts.recreatedEmail++;
    }
    const names =
      rng() < 0.8 ? { firstName: `First${emailSeq}`, lastName: rng() < 0.7 ? `Last${emailSeq}` : "" } : {};
    const account = await signUp(idp, { email, ...names });
    live.add(account.userId);
    emailOf.set(account.userId, email);
    counts.created++;
  };

  const update = async (id: string) => {
    const r = rng();
    if (r < 0.25) await clerk.users.updateUserMetadata(id, { publicMetadata: { role: role() } });
    else if (r < 0.5) await clerk.users.updateUserMetadata(id, { publicMetadata: granted(plan()) });
    else if (r < 0.62)
      await clerk.users.updateUserMetadata(id, { publicMetadata: { role: role(), ...granted(plan()) } });
    else if (r < 0.67)
      await clerk.users.updateUserMetadata(id, { publicMetadata: { ...granted(null), role: null } });
    else if (r < 0.72) await clerk.users.updateUserMetadata(id, { privateMetadata: { note: `n${issued}` } });
    else if (r < 0.85) {
      await clerk.users.updateUser(id, {
        firstName: `Renamed${issued}`,
        lastName: rng() < 0.5 ? `L${issued}` : "",
      });
      counts.rename++;
      return;
    } else {
      await clerk.users.replaceUserMetadata(id, {
        publicMetadata: rng() < 0.2 ? {} : { role: role(), ...granted(plan()) },
      });
      counts.replace++;
      return;
    }
    counts.patch++;
  };

  const remove = async (id: string) => {
    await clerk.users.deleteUser(id);
    live.delete(id);
    deleted.add(id);
    deletedEmails.push(emailOf.get(id)!);
    counts.deleted++;
  };

  const worker = async () => {
    while (issued < EVENTS) {
      issued++;
      const idle = [...live].filter((id) => !busy.has(id));
      const r = rng();
      try {
        if (idle.length < 20 || r < 0.22) {
          await create();
          continue;
        }
        const id = pick(rng, idle);
        busy.add(id);
        try {
          if (r < 0.85) await update(id);
          else await remove(id);
        } finally {
          busy.delete(id);
        }
      } catch (error) {
        counts.failed.push(String(error));
      }
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, worker));
  const generatedMs = performance.now() - started;

  await idp.whenDelivered(120_000);
  await proxy.drain();
  const deliveries = idp.deliveryStats();

  const rows = await backendUsers(backend.url, admin);
  const users = await idpUsers(clerk);
  const { live: liveCount, tombstoned, mismatches } = compareUsers(rows, users, deleted);
  const errors = backend.errorLines();
  const s = proxy.stats;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);

  report(
    `reliability/webhookChaos: ${counts.created + counts.patch + counts.rename + counts.replace + counts.deleted} events ` +
      `(${counts.created} created incl. ${counts.recreatedEmail} re-used emails, ${counts.patch} metadata merges, ` +
      `${counts.rename} renames, ${counts.replace} replaces, ${counts.deleted} deletions) → ${s.messages} svix messages, ` +
      `${s.idpAttempts} IdP attempts (${s.injected503} × 503, ${s.injectedResets} resets, ${s.lostAcks} lost acks, ` +
      `${deliveries.failedAttempts} retried), ` +
      `${s.backendRequests} backend requests (${s.held} held, ${s.reordered} reordered, ${s.duplicatesSent} duplicates, ` +
      `${s.concurrentDuplicates} concurrent), outcomes ${JSON.stringify(s.outcomes)}; ` +
      `final: ${liveCount} live users equal, ${tombstoned}/${deleted.size} deleted tombstoned, ` +
      `${mismatches.length} mismatches, ${s.backendFailures.length + errors.length + counts.failed.length} errors, ` +
      `${deliveries.dropped} dropped; generated in ${(generatedMs / 1000).toFixed(1)} s, total ${seconds} s (seed ${seed})`,
  );

  expect(counts.failed).toEqual([]);
  expect(counts.created + counts.patch + counts.rename + counts.replace + counts.deleted).toBe(EVENTS);
  // Every change produced one svix message, and every sign-up its billing events; each one was
  // delivered (none exhausted its retries).
  expect(s.messages).toBe(EVENTS + BILLING_EVENTS_PER_SIGN_UP * counts.created);
  expect(deliveries.dropped).toBe(0);
  // The chaos really happened.
  expect(s.reordered).toBeGreaterThan(0);
  expect(s.duplicatesSent).toBeGreaterThan(0);
  expect(s.injected503 + s.injectedResets).toBeGreaterThan(0);
  expect(s.lostAcks).toBeGreaterThan(0);
  expect(s.outcomes["duplicate"] ?? 0).toBeGreaterThan(0);
  // Zero unhandled errors: every delivery the backend saw was answered 2xx, nothing logged an error.
  expect(s.backendFailures).toEqual([]);
  expect(errors).toEqual([]);
  // Exact equality with the IdP, tombstones for every deletion, no resurrection.
  expect(mismatches).toEqual([]);
  expect(tombstoned).toBe(deleted.size);
  expect(rows.filter((r) => r.deletedAt === undefined)).toHaveLength(users.length);
});
