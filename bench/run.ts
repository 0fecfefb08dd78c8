/**
 * `npm run bench`: the local stack's performance figures, measured side by side in one run.
 *
 *  1. start-to-ready of `npm start`'s stack (cold: empty data dir; warm: restart on the same data);
 *  2. reactivity: 100 signed-in users, each with 3 live subscriptions; how many query re-runs one write
 *     causes (read-set invalidation) against the subscriptions an invalidate-everything backend re-runs;
 *  3. latency with those 300 subscriptions: mutation round trip, and write → observed by another user
 *     (a public post reaching a reader's live `posts.listPublic`).
 *
 * Tokens come from the local IdP (real sign-ups), clients are the unmodified `convex/browser` ConvexClient.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ConvexClient } from "convex/browser";
import { api } from "../convex/_generated/api";
import type { CommitInfo } from "../local/backend/engine.ts";
import { newClient, signIn } from "../local/backend/test.backend.ts";
import { idpClient } from "../local/idp/client.ts";
import { startTestStack } from "../local/test.stack.ts";

const USERS = 100;
const LATENCY_SAMPLES = 40;
const root = path.resolve(import.meta.dirname, "..");

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const ms = (x: number) => `${x.toFixed(1)} ms`;

async function stackStartSeconds(dataDir: string): Promise<number> {
  const child = spawn(process.execPath, ["--import", "tsx", "local/start.ts"], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      LOCAL_CONVEX_PORT: "5310",
      LOCAL_CONVEX_SITE_PORT: "5311",
      LOCAL_IDP_PORT: "5312",
      PORT: "5173",
      LOCAL_DATA_DIR: dataDir,
    },
  });
  const started = performance.now();
  let out = "";
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("Gatehouse is running offline")) resolve();
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`stack exited ${code}\n${out}`)));
  });
  const seconds = (performance.now() - started) / 1000;
  child.removeAllListeners("exit");
  child.kill("SIGINT");
  await new Promise((r) => child.once("exit", r));
  return seconds;
}

async function startupFigures() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "gatehouse-bench-start-"));
  try {
    const cold = await stackStartSeconds(dataDir);
    const warm = await stackStartSeconds(dataDir);
    return { cold, warm };
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function reactivityFigures() {
  const stack = await startTestStack();
  const { idp, backend } = stack;
  const commits: CommitInfo[] = [];
  backend.on("commit", ((c: CommitInfo) => commits.push(c)) as (payload: never) => void);
  const clients: ConvexClient[] = [];
  const publicTitles: Set<string>[] = [];
  try {
    const auth = idpClient(idp.url, { secretKey: idp.secretKey });
    for (let i = 0; i < USERS; i++) {
      const session = await auth.signUp({ email: `bench${i}@gatehouse.test`, password: "bench-password-1" });
      const client = newClient(backend.url);
      clients.push(client);
      await signIn(client, async ({ forceRefreshToken }) =>
        forceRefreshToken ? await auth.token(session.sessionId) : session.token,
      );
      const seen = new Set<string>();
      publicTitles.push(seen);
      client.onUpdate(api.users.me, {}, () => undefined);
      client.onUpdate(
        api.posts.listMine,
        { paginationOpts: { numItems: 10, cursor: null } },
        () => undefined,
      );
      client.onUpdate(api.posts.listPublic, { paginationOpts: { numItems: 10, cursor: null } }, (p) => {
        for (const post of p.page) seen.add(post.title);
      });
    }
    await idp.whenDelivered(30_000);
    await backend.idle();
    const subscriptions = backend.stats().subscriptions;

    const rerunsFor = async (write: () => Promise<unknown>) => {
      await backend.idle();
      const before = commits.length;
      await write();
      await backend.idle();
      return commits.slice(before).reduce((n, c) => n + c.invalidatedQueries, 0);
    };
    const privateReruns = await rerunsFor(() =>
      clients[0]!.mutation(api.posts.create, { title: "private note", body: "x" }),
    );
    const publicReruns = await rerunsFor(() =>
      clients[1]!.mutation(api.posts.create, { title: "public note", body: "x", visibility: "public" }),
    );

    const roundTrips: number[] = [];
    const observed: number[] = [];
    const reader = publicTitles[USERS - 1]!;
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      const title = `sample ${i}`;
      const t0 = performance.now();
      await clients[2 + (i % (USERS - 3))]!.mutation(api.posts.create, {
        title,
        body: "",
        visibility: "public",
      });
      roundTrips.push(performance.now() - t0);
      while (!reader.has(title)) await new Promise((r) => setTimeout(r, 1));
      observed.push(performance.now() - t0);
    }
    return { subscriptions, privateReruns, publicReruns, roundTrips, observed, startupMs: backend.startupMs };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await stack.dispose();
  }
}

const start = await startupFigures();
const r = await reactivityFigures();
console.log(`
Gatehouse local stack — ${new Date().toISOString()} — ${os.cpus().length} cores, Node ${process.version}

Start to ready (npm start: IdP + backend + Vite, seeded through webhooks)
  cold (empty data dir)                ${start.cold.toFixed(2)} s
  warm (restart, same data)            ${start.warm.toFixed(2)} s
  backend alone (in-process)           ${r.startupMs} ms

Reactivity: ${USERS} users signed in, ${r.subscriptions} live subscriptions (users.me, posts.listMine, posts.listPublic each)
  one private post  → re-runs          ${r.privateReruns}   (invalidate-everything: ${r.subscriptions}; ratio ${(r.privateReruns / r.subscriptions).toFixed(4)})
  one public post   → re-runs          ${r.publicReruns}   (invalidate-everything: ${r.subscriptions}; ratio ${(r.publicReruns / r.subscriptions).toFixed(4)})

Latency with those subscriptions (${LATENCY_SAMPLES} public posts by different users)
  mutation round trip                  p50 ${ms(quantile(r.roundTrips, 0.5))}   p95 ${ms(quantile(r.roundTrips, 0.95))}
  write → observed by another user     p50 ${ms(quantile(r.observed, 0.5))}   p95 ${ms(quantile(r.observed, 0.95))}
`);
process.exit(0);
