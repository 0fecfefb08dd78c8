/**
 * Reactivity: with many subscribed clients of different users, a commit re-runs only the
 * subscriptions whose read sets it touches (document ids and index ranges, not whole tables).
 */
import type { ConvexClient } from "convex/browser";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { CommitInfo } from "./engine.ts";
import {
  api,
  newClient,
  signIn,
  startIssuer,
  startTestBackend,
  waitForValue,
  type Issuer,
  type TestBackend,
} from "./test.backend.ts";

const USERS = 100;

type Page = { page: { _id: string; title: string }[] };

let issuer: Issuer;
let backend: TestBackend;
const clients: ConvexClient[] = [];
const latestPublic: (Page | undefined)[] = [];
const latestMine: (Page | undefined)[] = [];

beforeAll(async () => {
  issuer = await startIssuer();
  backend = await startTestBackend("reactivity", { issuerUrl: issuer.url });
  await Promise.all(
    Array.from({ length: USERS }, async (_, i) => {
      const client = newClient(backend.url);
      clients[i] = client;
      expect(
        await signIn(client, () =>
          issuer.mint(`user_${i}`, { metadata: { plan: i === 0 ? "pro" : "free_user" } }),
        ),
      ).toBe(true);
      await client.mutation(api.users.ensure, {});
      client.onUpdate(api.users.me, {}, () => undefined);
      client.onUpdate(
        api.posts.listMine,
        { paginationOpts: { numItems: 10, cursor: null } },
        (p: Page) => (latestMine[i] = p),
      );
      client.onUpdate(
        api.posts.listPublic,
        { paginationOpts: { numItems: 10, cursor: null } },
        (p: Page) => (latestPublic[i] = p),
      );
    }),
  );
  await waitForValue<number>(
    (cb) => {
      const t = setInterval(
        () => cb(latestPublic.filter(Boolean).length + latestMine.filter(Boolean).length),
        20,
      );
      return () => clearInterval(t);
    },
    (n) => n === 2 * USERS,
    30_000,
  );
  await backend.idle();
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await backend?.dispose();
  await issuer?.close();
});

/** Runs one mutation and reports the commit it made and the query re-runs that followed. */
async function measure(
  run: () => Promise<unknown>,
): Promise<{ commit: CommitInfo; reruns: number; ms: number }> {
  await backend.idle();
  const commits: CommitInfo[] = [];
  const off = backend.on("commit", (info: CommitInfo) => commits.push(info));
  const before = backend.stats().queryRuns;
  const started = performance.now();
  await run();
  const ms = performance.now() - started;
  await backend.idle();
  off();
  expect(commits).toHaveLength(1);
  return { commit: commits[0]!, reruns: backend.stats().queryRuns - before, ms };
}

test(`one private post among ${USERS} subscribed users re-runs one subscription`, async () => {
  expect(backend.stats().subscriptions).toBe(3 * USERS);
  const { commit, reruns, ms } = await measure(() =>
    clients[0]!.mutation(api.posts.create, { title: "private", body: "" }),
  );
  console.log(
    `[reactivity] private post, ${USERS} users × 3 subscriptions: ${reruns} re-run(s) (invalidated ${commit.invalidatedQueries}, tables ${commit.tables.join(",")}), mutation round trip ${ms.toFixed(1)} ms`,
  );
  expect(commit.invalidatedQueries).toBe(1); // user_0's posts.listMine
  expect(reruns).toBe(1);
  expect(latestMine[0]?.page.map((p) => p.title)).toEqual(["private"]);
});

test("a public post re-runs every user's listPublic (per-identity results) and the author's listMine", async () => {
  const { commit, reruns } = await measure(() =>
    clients[1]!.mutation(api.posts.create, { title: "public", body: "", visibility: "public" }),
  );
  console.log(`[reactivity] public post: ${reruns} re-runs for ${3 * USERS} subscriptions`);
  expect(commit.invalidatedQueries).toBe(USERS + 1);
  expect(reruns).toBe(USERS + 1);
  await waitForValue<number>(
    (cb) => {
      const t = setInterval(() => cb(latestPublic.filter((p) => p?.page[0]?.title === "public").length), 10);
      return () => clearInterval(t);
    },
    (n) => n === USERS,
  );
});

test("updating a private post re-runs only its author's listMine", async () => {
  const id = latestMine[0]!.page[0]!._id;
  const { reruns } = await measure(() => clients[0]!.mutation(api.posts.update, { id, body: "edited" }));
  expect(reruns).toBe(1);
});

test("mutation round-trip latency with all subscribers connected", async () => {
  const samples: number[] = [];
  for (let i = 0; i < 15; i++) {
    const started = performance.now();
    await clients[0]!.mutation(api.posts.create, { title: `t${i}`, body: "" }); // pro: no post quota
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  const median = samples[Math.floor(samples.length / 2)]!;
  console.log(
    `[reactivity] mutation round trip (${USERS} clients connected): median ${median.toFixed(1)} ms, max ${samples.at(-1)!.toFixed(1)} ms; backend ready in ${backend.startupMs} ms`,
  );
  expect(median).toBeLessThan(200);
});
