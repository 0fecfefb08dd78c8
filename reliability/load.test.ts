/**
 * 200 real ConvexClients across 50 users signed up through the IdP (half of them pro through the
 * Backend API and its webhook), each subscribed to its user's posts and 50 of them to the public
 * feed, while 20 mutations a second (creates, updates, removes; quotas respected) run for
 * RELIABILITY_LOAD_SECONDS (default 60) against the backend as a child process. Tokens last 60 s,
 * so every client refreshes its token during a full-length run.
 *
 * Asserted: zero errors (mutations, subscriptions, client logs, backend logs), every acknowledged
 * write present at the end and nothing else, every client's subscription converged to it, the
 * public feed converged for every subscriber. Reported: mutation p50/p99, backend RSS.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { closeClients, quantile, report, seededRandom, startStack, type Stack } from "./harness.ts";
import { eventually } from "../local/test.eventually.ts";
import {
  diffWithModel,
  modelShape,
  postsOnServer,
  publicShape,
  runWrites,
  settle,
  setUpWriters,
  shape,
  type Workload,
} from "./posts.ts";

const USERS = 50;
const CLIENTS_PER_USER = 4;
const PER_SECOND = 20;
const SECONDS = Number(process.env["RELIABILITY_LOAD_SECONDS"] ?? 60);

let stack: Stack;
let work: Workload | undefined;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  if (work) await closeClients(work.clients);
  await stack?.dispose();
});

test(`${USERS * CLIENTS_PER_USER} clients, ${PER_SECOND} mutations/s for ${SECONDS} s: nothing lost, every client converges`, async () => {
  const started = performance.now();
  const { backend } = stack;
  const rssBoot = backend.rssMb();
  const { seed, next: rng } = seededRandom("load");
  work = await setUpWriters(stack, { users: USERS, clientsPerUser: CLIENTS_PER_USER, prefix: "load" });
  const w = work;
  await eventually(
    () =>
      w.writers.every((x) => x.latest.length === CLIENTS_PER_USER && x.latest.every((p) => p !== undefined)),
    60_000,
    () => "every client's first posts.listMine value",
  );
  const setupSeconds = (performance.now() - started) / 1000;
  const rssBefore = backend.rssMb();

  const loadStarted = performance.now();
  const run = await runWrites(w, {
    perSecond: PER_SECOND,
    rng,
    stop: () => performance.now() - loadStarted >= SECONDS * 1000,
  });
  const stuck = await settle(w, 30_000);
  const unsettled = stuck.length;
  const rssAfterLoad = backend.rssMb();

  // Every client's subscription converges to its user's acknowledged posts.
  const convergeStarted = performance.now();
  const converged = () =>
    w.writers.reduce(
      (n, x) =>
        n +
        x.latest.filter((p) => p && JSON.stringify(shape(p.page)) === JSON.stringify(modelShape(x))).length,
      0,
    );
  await eventually(
    () => converged() === w.clients.length,
    30_000,
    () => `${converged()}/${w.clients.length} clients converged`,
  ).catch(() => undefined);
  const convergedClients = converged();
  const convergeMs = performance.now() - convergeStarted;

  // Every acknowledged write is on the server, and nothing else is.
  let lost = 0;
  let extra = 0;
  const problems: string[] = [];
  for (const x of w.writers) {
    const diff = diffWithModel(x, await postsOnServer(backend.url, x.account));
    lost += diff.lost.length;
    extra += diff.extra.length;
    if (diff.lost.length + diff.extra.length > 0)
      problems.push(`${x.account.email}: lost ${diff.lost.join(",")} extra ${diff.extra.join(",")}`);
  }
  // The feed subscriptions started on an empty table, so (as in Convex) their first page spans the
  // whole index and grows with it: it must hold exactly every acknowledged public post.
  const feed = JSON.stringify(publicShape(w));
  const feedSubscribers = w.writers.map((x) => x.feed[0]);
  await eventually(
    () => feedSubscribers.every((p) => p && JSON.stringify(shape(p.page)) === feed),
    10_000,
    () => "feed subscribers",
  ).catch(() => undefined);
  const feedConverged = feedSubscribers.filter((p) => p && JSON.stringify(shape(p.page)) === feed).length;
  const rssAfter = backend.rssMb();
  const errors = [...w.mutationErrors, ...w.subscriptionErrors, ...w.log.errors, ...backend.errorLines()];
  const acked = w.acked.create + w.acked.update + w.acked.remove;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);

  report(
    `reliability/load: ${w.clients.length} clients (${USERS} users, ${w.clients.length + USERS} subscriptions), ` +
      `${run.seconds.toFixed(1)} s at ${PER_SECOND}/s: ${acked} writes acked (${w.acked.create} creates, ` +
      `${w.acked.update} updates, ${w.acked.remove} removes; ${run.skipped} ticks skipped, user busy), ${unsettled} unsettled, ${lost} lost, ` +
      `${extra} unexpected, ${convergedClients}/${w.clients.length} converged (${convergeMs.toFixed(0)} ms after the last ack), ` +
      `feed ${feedConverged}/${feedSubscribers.length}, ${errors.length} errors, ${w.log.warnings.length} client warnings, ` +
      `mutation p50 ${quantile(w.latenciesMs, 0.5).toFixed(1)} ms p99 ${quantile(w.latenciesMs, 0.99).toFixed(1)} ms ` +
      `max ${Math.max(...w.latenciesMs).toFixed(0)} ms, backend RSS ${rssBoot.toFixed(0)} (boot) → ${rssBefore.toFixed(0)} (200 clients) → ` +
      `${rssAfterLoad.toFixed(0)} (after load) → ${rssAfter.toFixed(0)} MB; setup ${setupSeconds.toFixed(1)} s, total ${seconds} s (seed ${seed})`,
  );

  expect(errors).toEqual([]);
  expect(stuck).toEqual([]);
  expect(run.launched).toBe(acked);
  expect(acked).toBeGreaterThanOrEqual(Math.floor(SECONDS * PER_SECOND * 0.9));
  expect(problems).toEqual([]);
  expect(convergedClients).toBe(w.clients.length);
  expect(feedConverged).toBe(feedSubscribers.length);
});
