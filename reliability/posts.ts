/**
 * The write workload shared by the load and kill tests: users signed up through the IdP, each with
 * several real ConvexClients subscribed to their own posts (and some to the public feed), and a
 * model of what every user's posts must be — built only from acknowledged mutations, one write
 * at a time per user, so the expected final state is exact.
 */
import type { ConvexClient } from "convex/browser";
import { ConvexHttpClient } from "convex/browser";
import { api } from "../convex/_generated/api";
import type { Id } from "../convex/_generated/dataModel";
import {
  connectClient,
  granted,
  pick,
  signUp,
  sleep,
  type Account,
  type ClientLog,
  type Stack,
} from "./harness.ts";

export type Visibility = "private" | "public";
export type Post = { _id: Id<"posts">; title: string; visibility: Visibility };
export type Page = { page: Post[] };

export const MINE = { paginationOpts: { numItems: 100, cursor: null } };
export const FEED = { paginationOpts: { numItems: 20, cursor: null } };

export type Writer = {
  index: number;
  account: Account;
  pro: boolean;
  clients: ConvexClient[];
  /** Latest posts.listMine value per client. */
  latest: (Page | undefined)[];
  /** Latest posts.listPublic value per client (undefined where the client does not subscribe). */
  feed: (Page | undefined)[];
  /** Acknowledged state: post id → title and visibility. */
  model: Map<Id<"posts">, { title: string; visibility: Visibility }>;
  /** Titles of acknowledged creates (each unique), to find duplicates. */
  createdTitles: Set<string>;
  busy: boolean;
  seq: number;
};

export type Workload = {
  writers: Writer[];
  clients: ConvexClient[];
  log: ClientLog;
  subscriptionErrors: string[];
  mutationErrors: string[];
  latenciesMs: number[];
  acked: { create: number; update: number; remove: number };
  /** Mutations launched but not settled, with what they are and which client sent them. */
  inFlight: Map<Promise<void>, { what: string; client: ConvexClient; startedAt: number }>;
};

/**
 * Signs up `users` users (half on the pro plan, set through the Backend API and its webhook),
 * connects `clientsPerUser` clients each, subscribes every client to the user's posts and the
 * first client of each user to the public feed, and waits for every first value.
 */
export async function setUpWriters(
  stack: Stack,
  { users, clientsPerUser, prefix }: { users: number; clientsPerUser: number; prefix: string },
): Promise<Workload> {
  const work: Workload = {
    writers: [],
    clients: [],
    log: { warnings: [], errors: [] },
    subscriptionErrors: [],
    mutationErrors: [],
    latenciesMs: [],
    acked: { create: 0, update: 0, remove: 0 },
    inFlight: new Map(),
  };
  const accounts = await Promise.all(
    Array.from({ length: users }, (_, i) =>
      signUp(stack.idp, {
        email: `${prefix}${i}@gatehouse.test`,
        firstName: "Load",
        lastName: `User${i}`,
      }),
    ),
  );
  for (let i = 0; i < users; i += 2) {
    await stack.clerk.users.updateUserMetadata(accounts[i]!.userId, { publicMetadata: granted("pro") });
  }
  await stack.idp.whenDelivered(60_000);

  for (const [index, account] of accounts.entries()) {
    work.writers.push({
      index,
      account,
      pro: index % 2 === 0,
      clients: [],
      latest: [],
      feed: [],
      model: new Map(),
      createdTitles: new Set(),
      busy: false,
      seq: 0,
    });
  }
  // Connect in batches, so 200 handshakes do not all time out together on a busy machine.
  const slots = work.writers.flatMap((w) => Array.from({ length: clientsPerUser }, (_, k) => ({ w, k })));
  for (let i = 0; i < slots.length; i += 25) {
    await Promise.all(
      slots.slice(i, i + 25).map(async ({ w, k }) => {
        const client = await connectClient(stack.backend.url, w.account, work.log);
        w.clients[k] = client;
        work.clients.push(client);
        const onError = (e: Error) => work.subscriptionErrors.push(`${w.account.email}#${k}: ${e.message}`);
        client.onUpdate(api.posts.listMine, MINE, (p: Page) => (w.latest[k] = p), onError);
        if (k === 0) client.onUpdate(api.posts.listPublic, FEED, (p: Page) => (w.feed[k] = p), onError);
      }),
    );
  }
  return work;
}

/**
 * One write for `w`, chosen so quotas hold (free users stay under 10 posts): create, update or
 * remove, through one of the user's clients, recorded in the model only once acknowledged.
 */
export function launchWrite(work: Workload, w: Writer, rng: () => number): void {
  w.busy = true;
  const client = pick(rng, w.clients);
  const cap = w.pro ? 30 : 9;
  const ids = [...w.model.keys()];
  const r = rng();
  const kind =
    ids.length === 0 || (ids.length < cap && r < 0.55)
      ? "create"
      : ids.length >= cap || r < 0.75
        ? "remove"
        : "update";
  const started = performance.now();
  const task = (async () => {
    try {
      if (kind === "create") {
        const title = `u${w.index}-${w.seq++}`;
        const visibility: Visibility = rng() < 0.3 ? "public" : "private";
        const id = await client.mutation(api.posts.create, { title, body: `body of ${title}`, visibility });
        w.model.set(id, { title, visibility });
        w.createdTitles.add(title);
      } else if (kind === "update") {
        const id = pick(rng, ids);
        const title = `${w.model.get(id)!.title.split("~")[0]}~v${w.seq++}`;
        const visibility: Visibility | undefined =
          rng() < 0.3 ? pick(rng, ["private", "public"] as const) : undefined;
        await client.mutation(api.posts.update, { id, title, ...(visibility ? { visibility } : {}) });
        w.model.set(id, { title, visibility: visibility ?? w.model.get(id)!.visibility });
      } else {
        const id = pick(rng, ids);
        await client.mutation(api.posts.remove, { id });
        w.model.delete(id);
      }
      work.acked[kind]++;
      work.latenciesMs.push(performance.now() - started);
    } catch (error) {
      work.mutationErrors.push(
        `${kind} by ${w.account.email}: ${error instanceof Error ? error.message : String(error)}`,
      );
    } finally {
      w.busy = false;
    }
  })();
  work.inFlight.set(task, { what: `${kind} by ${w.account.email}`, client, startedAt: started });
  void task.then(() => work.inFlight.delete(task));
}

/**
 * Open-loop writes at `perSecond` until `stop()` is true: each tick starts the writes that are
 * due, round-robin over users, skipping (and counting) users whose previous write is still in flight.
 */
export async function runWrites(
  work: Workload,
  { perSecond, rng, stop }: { perSecond: number; rng: () => number; stop: () => boolean },
): Promise<{ launched: number; skipped: number; seconds: number }> {
  const started = performance.now();
  let launched = 0;
  let skipped = 0;
  let cursor = 0;
  const order = [...work.writers].sort(() => rng() - 0.5);
  while (!stop()) {
    const due = Math.floor(((performance.now() - started) / 1000) * perSecond);
    while (launched + skipped < due) {
      const w = order
        .slice(cursor)
        .concat(order.slice(0, cursor))
        .find((x) => !x.busy);
      cursor = (cursor + 1) % order.length;
      if (!w) {
        skipped++;
        continue;
      }
      launchWrite(work, w, rng);
      launched++;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return { launched, skipped, seconds: (performance.now() - started) / 1000 };
}

/**
 * Waits (bounded) for every launched write to settle; describes the ones that did not, with
 * their client's connection state, so a stuck mutation is a finding rather than a hang.
 */
export async function settle(work: Workload, timeoutMs: number): Promise<string[]> {
  await Promise.race([Promise.all([...work.inFlight.keys()]), sleep(timeoutMs)]);
  return [...work.inFlight.values()].map(
    ({ what, client, startedAt }) =>
      `${what}, pending ${((performance.now() - startedAt) / 1000).toFixed(1)} s: ` +
      JSON.stringify(client.connectionState()),
  );
}

/** What the backend holds for a user now, read with a fresh token over HTTP (no subscription involved). */
export async function postsOnServer(backendUrl: string, account: Account): Promise<Post[]> {
  const http = new ConvexHttpClient(backendUrl, { logger: false });
  http.setAuth(await account.freshToken());
  const page = (await http.query(api.posts.listMine, MINE)) as Page;
  return page.page;
}

/** A page as `id:title:visibility` strings, sorted, for exact comparison. */
export const shape = (posts: readonly Post[]) =>
  posts.map((p) => `${p._id}:${p.title}:${p.visibility}`).sort();

export const modelShape = (w: Writer) =>
  [...w.model.entries()].map(([id, p]) => `${id}:${p.title}:${p.visibility}`).sort();

/** Every acknowledged public post of every writer. */
export const publicShape = (work: Workload) =>
  work.writers
    .flatMap((w) => [...w.model.entries()].filter(([, p]) => p.visibility === "public"))
    .map(([id, p]) => `${id}:${p.title}:${p.visibility}`)
    .sort();

/**
 * Acknowledged writes missing from `posts` (an acked create or update not there, an acked remove
 * still there) and posts the model does not know (duplicates or unacknowledged effects).
 */
export function diffWithModel(w: Writer, posts: readonly Post[]): { lost: string[]; extra: string[] } {
  const want = new Set(modelShape(w));
  const have = new Set(shape(posts));
  return { lost: [...want].filter((x) => !have.has(x)), extra: [...have].filter((x) => !want.has(x)) };
}

export function rssLine(before: number, after: number): string {
  return `${before.toFixed(0)}→${after.toFixed(0)} MB`;
}

export function writerOf(work: Workload, client: ConvexClient): Writer | undefined {
  return work.writers.find((w) => w.clients.includes(client));
}
