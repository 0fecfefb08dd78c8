/**
 * Reactivity never misses an update: random (seeded) creates, edits, visibility flips and
 * deletes by several users; after each one every subscription converges to what a fresh query
 * says (pages compared up to their pinned end cursor).
 */
import { ConvexHttpClient, type ConvexClient } from "convex/browser";
import { afterAll, beforeAll, expect, test } from "vitest";
import {
  api,
  eventually,
  newClient,
  signIn,
  startIssuer,
  startTestBackend,
  type Issuer,
  type TestBackend,
} from "./test.backend.ts";

const USERS = 5;
const OPS = 80;
const PAGE = 3;

type Post = {
  _id: string;
  _creationTime: number;
  authorId: string;
  title: string;
  body: string;
  visibility: string;
};
type Page = { page: Post[]; isDone: boolean; continueCursor: string };
type Overview = { total: number; public: number; private: number; words: number };
type Views = { mine?: Page; pub?: Page; overview?: Overview };

let issuer: Issuer;
let backend: TestBackend;
const clients: ConvexClient[] = [];
const https: ConvexHttpClient[] = [];
const views: Views[] = [];

function mulberry32(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The (_creationTime, _id) of a page's end cursor (convex-test cursors end with those two keys). */
function cursorTail(cursor: string): [number, string] | null {
  if (cursor === "_end_cursor") return null;
  const keys = (JSON.parse(cursor) as string[]).map((k) => JSON.parse(k) as unknown);
  return [keys.at(-2) as number, keys.at(-1) as string];
}

/** What a page pinned at its end cursor must hold now: every post from the start down to the cursor. */
function expectedPage(all: Post[], page: Page): string[] {
  const tail = cursorTail(page.continueCursor);
  return all
    .filter((p) => !tail || p._creationTime > tail[0] || (p._creationTime === tail[0] && p._id >= tail[1]))
    .map((p) => p._id);
}

beforeAll(async () => {
  issuer = await startIssuer();
  backend = await startTestBackend("consistency", { issuerUrl: issuer.url });
  for (let i = 0; i < USERS; i++) {
    const token = () => issuer.mint(`user_${i}`, { metadata: { plan: "pro" } });
    const client = newClient(backend.url);
    clients.push(client);
    expect(await signIn(client, token)).toBe(true);
    const http = new ConvexHttpClient(backend.url);
    http.setAuth(await token());
    https.push(http);
    const v: Views = {};
    views.push(v);
    client.onUpdate(
      api.posts.listMine,
      { paginationOpts: { numItems: PAGE, cursor: null } },
      (p: Page) => (v.mine = p),
    );
    client.onUpdate(
      api.posts.listPublic,
      { paginationOpts: { numItems: PAGE, cursor: null } },
      (p: Page) => (v.pub = p),
    );
    client.onUpdate(api.insights.overview, {}, (o: Overview) => (v.overview = o));
  }
}, 30_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await backend?.dispose();
  await issuer?.close();
});

/** A fresh read of a whole paginated list, page by page (pages hold at most 100 items). */
async function everyPage(http: ConvexHttpClient, query: typeof api.posts.listMine): Promise<Page["page"]> {
  const items: Page["page"] = [];
  let cursor: string | null = null;
  for (;;) {
    const result = (await http.query(query, { paginationOpts: { numItems: 100, cursor } })) as Page;
    items.push(...result.page);
    if (result.isDone) return items;
    cursor = result.continueCursor;
  }
}

async function converged(): Promise<void> {
  await backend.idle();
  const truth = await Promise.all(
    https.map(async (http) => ({
      mine: await everyPage(http, api.posts.listMine),
      pub: await everyPage(http, api.posts.listPublic),
      overview: (await http.query(api.insights.overview, {})) as Overview,
    })),
  );
  const mismatch = () => {
    for (let i = 0; i < USERS; i++) {
      const v = views[i]!;
      const t = truth[i]!;
      if (!v.mine || !v.pub || !v.overview) return `user_${i}: not loaded`;
      const mine = v.mine.page.map((p) => p._id);
      const pub = v.pub.page.map((p) => p._id);
      if (JSON.stringify(mine) !== JSON.stringify(expectedPage(t.mine, v.mine))) return `user_${i} listMine`;
      if (JSON.stringify(pub) !== JSON.stringify(expectedPage(t.pub, v.pub))) return `user_${i} listPublic`;
      const { total, public: pubCount, private: priv, words } = v.overview;
      if (
        JSON.stringify({ total, pubCount, priv, words }) !==
        JSON.stringify({
          total: t.overview.total,
          pubCount: t.overview.public,
          priv: t.overview.private,
          words: t.overview.words,
        })
      ) {
        return `user_${i} overview`;
      }
      // Contents too, not just ids (edits must show).
      const byId = new Map(t.mine.map((p) => [p._id, p]));
      for (const p of v.mine.page)
        if (JSON.stringify(p) !== JSON.stringify(byId.get(p._id))) return `user_${i} stale post ${p._id}`;
    }
    return null;
  };
  const result = await eventually(mismatch, (m) => m === null, 3000).catch(() => mismatch());
  expect(result).toBeNull();
}

test(`${OPS} random writes by ${USERS} users: every subscription stays equal to a fresh query`, async () => {
  const random = mulberry32(20261126);
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
  const owned: string[][] = Array.from({ length: USERS }, () => []);
  const runsBefore = backend.stats().queryRuns;
  for (let op = 0; op < OPS; op++) {
    // Spread the writes over users so no one hits the write rate limit (a burst of 20).
    const u = op % USERS;
    const client = clients[u]!;
    const mine = owned[u]!;
    const r = random();
    if (mine.length === 0 || r < 0.4) {
      const id = (await client.mutation(api.posts.create, {
        title: `t${op}`,
        body: "word ".repeat(1 + Math.floor(random() * 5)),
        visibility: random() < 0.5 ? "public" : "private",
      })) as string;
      mine.push(id);
    } else if (r < 0.8) {
      const id = pick(mine);
      await client.mutation(api.posts.update, {
        id,
        ...(random() < 0.5
          ? { visibility: random() < 0.5 ? "public" : "private" }
          : { body: `edited ${op}` }),
      });
    } else {
      const id = pick(mine);
      mine.splice(mine.indexOf(id), 1);
      await client.mutation(api.posts.remove, { id });
    }
    await converged();
  }
  const reruns = backend.stats().queryRuns - runsBefore;
  console.log(
    `[consistency] ${OPS} writes, ${USERS * 3} subscriptions: ${reruns} re-runs (re-run-everything would be ${OPS * USERS * 3})`,
  );
}, 60_000);
