/**
 * The runtime: the engine generation in service (convexTestAdapter.ts) and what a long-lived
 * server needs around it. It
 *
 * - starts from the data dir (journal.ts) and installs each generation: read tracking
 *   (readTracking.ts), the commit hook, the auth providers of its `convex/auth.config.ts`;
 * - handles every top-level commit synchronously, inside it: a commit timestamp, the journal
 *   line (written before anything can be acknowledged), the cached results it invalidates
 *   (queryCache.ts), the job timers it changes (scheduler.ts), its CommitInfo, and a compaction
 *   once the log passes 32 MiB;
 * - gates calls (execution.ts runs them) so a hot reload swaps generations between calls: new
 *   calls wait, running ones drain, the documents move over unchanged (same ids), every cached
 *   result runs again;
 * - closes: timers stop, running calls get up to 2 s to commit, the journal is compacted.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { EventEmitter } from "node:events";
import { convexToJson, type JSONValue, type Value } from "convex/values";
import { AuthFailure, AuthVerifier, type Identity } from "./auth.ts";
import { callStore, installCallGlobals, newCallContext } from "./context.ts";
import { Engine } from "./convexTestAdapter.ts";
import { callHttpAction, callPublicFunction, type CallOptions, type CallSetting } from "./execution.ts";
import { Journal, type ReplayRecord } from "./journal.ts";
import { canonicalizeUdfPath, Clock, type FunctionResult, type UdfType } from "./protocol.ts";
import { QueryCache } from "./queryCache.ts";
import { trackReads } from "./readTracking.ts";
import { Scheduler } from "./scheduler.ts";
import type { DocumentChange } from "./readset.ts";

export type CommitInfo = {
  ts: bigint;
  /** Documents written (inserted, replaced, deleted). */
  writes: number;
  tables: string[];
  /** Cached query results (distinct identity × function × args) this commit invalidated: each is re-run once. */
  invalidatedQueries: number;
  /** Client subscriptions whose result those re-runs refresh. */
  affectedSubscriptions: number;
};

export type RuntimeOptions = {
  convexDir: string;
  dataDir: string;
  reset: boolean;
  env: Record<string, string>;
  /** Called with each function call's log lines (and failures), e.g. to print them like `npx convex dev`. */
  onFunctionLogs?: (label: string, lines: string[]) => void;
};

const COMPACT_LOG_BYTES = 32 * 1024 * 1024;

export class Runtime {
  readonly options: RuntimeOptions;
  readonly clock = new Clock();
  readonly journal: Journal;
  readonly verifier = new AuthVerifier();
  readonly events = new EventEmitter();
  private engine!: Engine;
  private readonly root = AsyncLocalStorage.snapshot();
  private inflight = 0;
  private paused: Promise<void> | null = null;
  private drained: (() => void) | null = null;
  private closed = false;
  private generation = 0;
  private compactScheduled = false;
  readonly counters = {
    commits: 0,
    queryRuns: 0,
    mutations: 0,
    actions: 0,
    httpActions: 0,
    scheduledRuns: 0,
    reloads: 0,
  };
  readonly recentCommits: CommitInfo[] = [];
  /** Query results shared by subscriptions (sync.ts). */
  readonly queryCache = new QueryCache(
    (entry, reads) =>
      this.run("query", entry.udfPath, entry.argsJson, entry.identity, { reads, journal: entry.journalIn }),
    this.counters,
  );

  private readonly callSetting: CallSetting;
  private readonly scheduler: Scheduler;

  private constructor(options: RuntimeOptions) {
    this.options = options;
    this.callSetting = {
      env: options.env,
      counters: this.counters,
      onFunctionLogs: options.onFunctionLogs,
      clock: this.clock,
    };
    this.scheduler = new Scheduler({
      env: options.env,
      onFunctionLogs: options.onFunctionLogs,
      counters: this.counters,
      enter: () => this.enter(),
      exit: () => this.exit(),
      flush: () => this.flush(),
      isClosed: () => this.closed,
    });
    this.journal = new Journal(options.dataDir);
    this.events.setMaxListeners(0);
  }

  static async start(options: RuntimeOptions): Promise<Runtime> {
    installCallGlobals();
    const rt = new Runtime(options);
    rt.journal.open(options.reset);
    try {
      const state = rt.journal.load();
      const engine = await Engine.create(options.convexDir, options.env);
      engine.hydrate(state);
      rt.install(engine);
      rt.clock.advanceTo(state.lastCommitTs);
      rt.clock.advanceTo(BigInt(Date.now()) * 1_000_000n);
      rt.journal.compact(engine.storedState());
      rt.scheduler.restore(engine);
      rt.scheduler.armCrons(engine);
    } catch (error) {
      rt.journal.close();
      throw error;
    }
    return rt;
  }

  get generationNumber(): number {
    return this.generation;
  }

  private install(engine: Engine): void {
    engine.useExternalScheduler();
    trackReads(engine);
    engine.observeCommits((changes) => {
      try {
        this.onCommit(engine, changes);
      } catch (error) {
        // Never break convex-test's transaction manager; report loudly instead.
        this.root(() => console.error("[local backend] commit bookkeeping failed:", error));
      }
    });
    this.engine = engine;
    this.generation++;
    this.verifier.setProviders(engine.authProviders);
  }

  /** Runs `fn` outside any function's async context (no convex-test or call store leaks). */
  private defer(fn: () => void): void {
    this.root(() => setImmediate(fn));
  }

  // ----- commits -----

  /** Runs synchronously inside every top-level commit. */
  private onCommit(engine: Engine, changes: DocumentChange[]): void {
    const ctx = callStore.getStore();
    if (changes.length === 0) {
      if (ctx) ctx.commitTs = this.clock.current;
      return;
    }
    const ts = this.clock.next();
    if (ctx) ctx.commitTs = ts;
    try {
      this.journal.append(
        ts,
        changes.map((c) => [
          c.id,
          c.after === null ? null : (convexToJson(c.after as Value) as Record<string, JSONValue>),
        ]),
        ctx?.replay?.result
          ? { key: ctx.replay.key, result: convexToJson((ctx.replay.result.value ?? null) as Value) }
          : undefined,
      );
    } catch (error) {
      durabilityLost(error);
    }
    this.counters.commits++;

    const { invalidated, affected, toWake } = this.queryCache.invalidate(changes);

    const jobChanges = this.scheduler.jobChanges(changes);

    const info: CommitInfo = {
      ts,
      writes: changes.length,
      tables: [...new Set(changes.map((c) => c.table))],
      invalidatedQueries: invalidated,
      affectedSubscriptions: affected,
    };
    this.recentCommits.push(info);
    if (this.recentCommits.length > 100) this.recentCommits.shift();

    const needCompaction = this.journal.logSize > COMPACT_LOG_BYTES && !this.compactScheduled;
    if (needCompaction) this.compactScheduled = true;
    this.defer(() => {
      for (const s of toWake) s.wake();
      this.scheduler.applyJobChanges(jobChanges);
      if (needCompaction && engine === this.engine) this.compactNow();
      this.events.emit("commit", info);
    });
  }

  private compactNow(): void {
    this.compactScheduled = false;
    if (this.closed) return;
    this.journal.compact(this.engine.storedState());
  }

  /** A client mutation committed before (even before a restart), by its replay key (mutationLog.ts). */
  committedReplay(key: string): ReplayRecord | undefined {
    return this.journal.replayOf(key);
  }

  /** Makes acknowledged writes durable; called before any response leaves the server. */
  flush(): void {
    try {
      this.journal.sync();
    } catch (error) {
      durabilityLost(error);
    }
  }

  // ----- gating (hot reload swaps engines between calls) -----

  private async enter(): Promise<Engine> {
    while (this.paused) await this.paused;
    if (this.closed) throw new Error("The local backend is shutting down");
    this.inflight++;
    return this.engine;
  }

  private exit(): void {
    this.inflight--;
    if (this.inflight === 0 && this.drained) this.drained();
  }

  // ----- function execution -----

  /** Runs a public function for a client. */
  async run(
    kind: UdfType | "any",
    udfPath: string,
    argsJson: JSONValue,
    identity: Identity | null,
    options: CallOptions = {},
  ): Promise<FunctionResult & { kind?: UdfType }> {
    const canonical = canonicalizeUdfPath(udfPath);
    const engine = await this.enter();
    try {
      return await callPublicFunction(engine, this.callSetting, kind, canonical, argsJson, identity, options);
    } finally {
      this.exit();
    }
  }

  /** Runs an HTTP action from `convex/http.ts` with `request.url` as the site URL sees it. */
  async runHttpAction(
    request: Request,
    path: string,
    auth: Identity | null | AuthFailure,
  ): Promise<Response> {
    const engine = await this.enter();
    const ctx = newCallContext(this.options.env);
    try {
      this.counters.httpActions++;
      return await callHttpAction(engine, ctx, request, path, auth);
    } finally {
      this.exit();
      if (ctx.logLines.length > 0)
        this.options.onFunctionLogs?.(`H(${request.method} ${path})`, ctx.logLines);
    }
  }

  // ----- hot reload -----

  private reloading: Promise<boolean> | null = null;
  private reloadAgain = false;

  /** Loads the current `convex/` files into a new engine and moves the data over. */
  reload(): Promise<boolean> {
    if (this.reloading) {
      this.reloadAgain = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      let ok: boolean;
      do {
        this.reloadAgain = false;
        ok = await this.reloadOnce();
      } while (this.reloadAgain && !this.closed);
      this.reloading = null;
      return ok;
    })();
    return this.reloading;
  }

  private async reloadOnce(): Promise<boolean> {
    let next: Engine;
    const started = Date.now();
    try {
      next = await Engine.create(this.options.convexDir, this.options.env);
    } catch (error) {
      this.events.emit("reloadError", error);
      return false;
    }
    if (this.closed) return false;
    let resume!: () => void;
    this.paused = new Promise((r) => (resume = r));
    try {
      if (this.inflight > 0) await new Promise<void>((r) => (this.drained = r));
      this.drained = null;
      next.adopt(this.engine);
      this.install(next);
      this.counters.reloads++;
      this.queryCache.invalidateAll();
    } finally {
      this.paused = null;
      resume();
    }
    this.scheduler.armCrons(this.engine);
    this.defer(() => {
      for (const s of this.queryCache.subscribers()) s.wake();
      this.events.emit("reload", { generation: this.generation, ms: Date.now() - started });
    });
    return true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.scheduler.stop();
    // Let running calls finish so their commits are journaled, then stop.
    let resume!: () => void;
    this.paused = new Promise((r) => (resume = r));
    const deadline = new Promise<void>((r) => setTimeout(r, 2000).unref());
    if (this.inflight > 0) await Promise.race([new Promise<void>((r) => (this.drained = r)), deadline]);
    this.closed = true;
    this.paused = null;
    resume();
    try {
      this.journal.compact(this.engine.storedState());
    } finally {
      this.journal.close();
    }
  }
}

/**
 * A commit that cannot be journaled (disk full, I/O error) must never be acknowledged: stop
 * the process before any response leaves, as a database does when fsync fails. On restart the
 * journal holds exactly what was acknowledged.
 */
function durabilityLost(error: unknown): never {
  process.stderr.write(
    `[local backend] FATAL: the journal could not be written; stopping so nothing unsaved is acknowledged: ${String(error)}\n`,
  );
  process.exit(70);
}
