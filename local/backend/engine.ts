/**
 * The execution engine: convex-test's in-process Convex over the app's own `convex/` modules,
 * wrapped so a long-lived server can use it:
 *
 * - visibility and function-type checks (convex-test runs internal functions too);
 * - every top-level commit is observed (old/new version of each written document): it is
 *   journaled synchronously, gets a commit timestamp, invalidates exactly the cached query
 *   results whose read sets it touches, and arms scheduled jobs on our own timers;
 * - subscription queries record their read sets (ids, index ranges, tables) and keep
 *   pagination end cursors stable through journals;
 * - hot reload builds a new engine generation and moves the documents over (same ids).
 *
 * convex-test's internals are reached through `_localBackend`, added by patches/convex-test.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { EventEmitter } from "node:events";
import { convexToJson, jsonToConvex, type JSONValue, type Value } from "convex/values";
import { AuthFailure, AuthVerifier, type Identity } from "./auth.ts";
import { callStore, installCallGlobals, newCallContext, type CallContext } from "./context.ts";
import { Engine, type ScheduledJobDoc } from "./convexTestAdapter.ts";
import { callHttpAction, callPublicFunction, type CallOptions, type CallSetting } from "./execution.ts";
import { Journal, type ReplayRecord } from "./journal.ts";
import { canonicalizeUdfPath, Clock, type FunctionResult, type UdfType } from "./protocol.ts";
import { QueryCache } from "./queryCache.ts";
import { trackReads } from "./readTracking.ts";
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

const MAX_TIMER_MS = 2 ** 31 - 1;
const COMPACT_LOG_BYTES = 32 * 1024 * 1024;

export class Runtime {
  readonly options: RuntimeOptions;
  readonly clock = new Clock();
  readonly journal: Journal;
  readonly verifier = new AuthVerifier();
  readonly events = new EventEmitter();
  private engine!: Engine;
  private readonly jobTimers = new Map<string, NodeJS.Timeout>();
  private readonly cronTimers = new Set<NodeJS.Timeout>();
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

  private constructor(options: RuntimeOptions) {
    this.options = options;
    this.callSetting = {
      env: options.env,
      counters: this.counters,
      onFunctionLogs: options.onFunctionLogs,
      clock: this.clock,
    };
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
      rt.restoreScheduledJobs();
      rt.armCrons();
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
    engine.cg.externalScheduler = true;
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

    const jobs: { id: string; time: number }[] = [];
    const cancelled: string[] = [];
    for (const c of changes) {
      if (c.table !== "_scheduled_functions") continue;
      const after = c.after as ScheduledJobDoc | null;
      if (after && after.state.kind === "pending") {
        if ((c.before as ScheduledJobDoc | null)?.state.kind !== "pending")
          jobs.push({ id: c.id, time: after.scheduledTime });
      } else if (after === null || after.state.kind === "canceled") cancelled.push(c.id);
    }

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
      for (const job of jobs) this.armJob(job.id, job.time);
      for (const id of cancelled) this.disarmJob(id);
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

  // ----- scheduler -----

  private armJob(jobId: string, scheduledTime: number): void {
    if (this.closed) return;
    this.disarmJob(jobId);
    const delay = Math.max(0, scheduledTime - Date.now());
    const timer = setTimeout(
      () => {
        this.jobTimers.delete(jobId);
        if (scheduledTime - Date.now() > 0) this.armJob(jobId, scheduledTime);
        else void this.runJob(jobId);
      },
      Math.min(delay, MAX_TIMER_MS),
    );
    timer.unref();
    this.jobTimers.set(jobId, timer);
  }

  private disarmJob(jobId: string): void {
    const timer = this.jobTimers.get(jobId);
    if (timer) {
      clearTimeout(timer);
      this.jobTimers.delete(jobId);
    }
  }

  private runJob(jobId: string): Promise<void> {
    let label = jobId;
    return this.runInBackground(
      () => `S(${label})`,
      async (engine, ctx) => {
        try {
          const job = engine.db._documents[jobId] as ScheduledJobDoc | undefined;
          if (!job || job.state.kind !== "pending") return;
          label = job.name;
          this.counters.scheduledRuns++;
          await callStore.run(ctx, () =>
            engine.t._localBackend!.runScheduledFunction({
              jobId,
              udfPath: job.name,
              args: job.args[0] ?? {},
            }),
          );
        } catch (error) {
          console.error(`[local backend] scheduled function ${label} could not run:`, error);
        }
      },
    );
  }

  /**
   * A call the backend makes by itself (a scheduled job, a cron): skipped once the backend is
   * closing; `body` gets the engine and a fresh call context; afterwards the engine is left,
   * pending work flushed and the call's log lines reported under `label()`.
   */
  private async runInBackground(
    label: () => string,
    body: (engine: Engine, ctx: CallContext) => Promise<void>,
  ): Promise<void> {
    let engine: Engine;
    try {
      engine = await this.enter();
    } catch {
      return;
    }
    const ctx = newCallContext(this.options.env);
    try {
      await body(engine, ctx);
    } finally {
      this.exit();
      this.flush();
      if (ctx.logLines.length > 0) this.options.onFunctionLogs?.(label(), ctx.logLines);
    }
  }

  /** After a restart: arm pending jobs; a job that was running when the process died failed. */
  private restoreScheduledJobs(): void {
    const interrupted: string[] = [];
    for (const id of this.engine.db._tableIds.get("_scheduled_functions") ?? []) {
      const job = this.engine.db._documents[id] as ScheduledJobDoc | undefined;
      if (!job) continue;
      if (job.state.kind === "pending") this.armJob(id, job.scheduledTime);
      else if (job.state.kind === "inProgress") interrupted.push(id);
    }
    if (interrupted.length > 0) void this.failInterruptedJobs(interrupted);
  }

  private async failInterruptedJobs(ids: string[]): Promise<void> {
    const engine = await this.enter();
    try {
      const db = engine.db;
      await callStore.run(newCallContext(this.options.env), () =>
        engine.t.mutation(async () => {
          for (const id of ids) {
            if (db._documents[id])
              db.patch("_scheduled_functions", id, { state: { kind: "failed" }, completedTime: Date.now() });
          }
          return null;
        }, {}),
      );
    } finally {
      this.exit();
      this.flush();
    }
  }

  // ----- crons (convex/crons.ts) -----

  private armCrons(): void {
    for (const t of this.cronTimers) clearTimeout(t);
    this.cronTimers.clear();
    const crons = (this.engine.crons as { crons?: Record<string, CronSpec> } | undefined)?.crons;
    if (!crons) return;
    for (const [name, spec] of Object.entries(crons)) this.armCron(name, spec);
  }

  private armCron(name: string, spec: CronSpec): void {
    if (this.closed) return;
    const next = nextCronTime(spec.schedule, Date.now());
    if (next === null) return;
    const timer = setTimeout(
      () => {
        this.cronTimers.delete(timer);
        if (Date.now() < next) {
          this.armCron(name, spec);
          return;
        }
        void this.runCron(name, spec).finally(() => this.armCron(name, spec));
      },
      Math.min(Math.max(0, next - Date.now()), MAX_TIMER_MS),
    );
    timer.unref();
    this.cronTimers.add(timer);
  }

  private runCron(name: string, spec: CronSpec): Promise<void> {
    return this.runInBackground(
      () => `C(${name})`,
      async (engine, ctx) => {
        try {
          const fnPath = canonicalizeUdfPath(spec.name);
          await callStore.run(ctx, async () => {
            const acc = engine.t as unknown as {
              fun(path: { udfPath: string; componentPath: string }, args: Value): Promise<unknown>;
            };
            await acc.fun({ udfPath: fnPath, componentPath: "" }, jsonToConvex(spec.args[0] ?? {}));
          });
        } catch (error) {
          ctx.logLines.push(
            `[ERROR] cron ${name} failed: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
      },
    );
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
    this.armCrons();
    this.defer(() => {
      for (const s of this.queryCache.subscribers()) s.wake();
      this.events.emit("reload", { generation: this.generation, ms: Date.now() - started });
    });
    return true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    for (const t of this.jobTimers.values()) clearTimeout(t);
    this.jobTimers.clear();
    for (const t of this.cronTimers) clearTimeout(t);
    this.cronTimers.clear();
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

// ---------- cron schedules (convex/server cron.ts shapes) ----------

export type CronSchedule =
  | { type: "interval"; seconds?: number; minutes?: number; hours?: number }
  | { type: "hourly"; minuteUTC?: number }
  | { type: "daily"; hourUTC: number; minuteUTC?: number }
  | { type: "weekly"; dayOfWeek: string; hourUTC: number; minuteUTC?: number }
  | { type: "monthly"; day: number; hourUTC: number; minuteUTC?: number }
  | { type: "cron"; cron: string };

type CronSpec = { name: string; args: JSONValue[]; schedule: CronSchedule };

const DAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];

/** The next run time (ms) after `now`, or null for schedules this backend does not run (cron strings). */
export function nextCronTime(schedule: CronSchedule, now: number): number | null {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const mo = d.getUTCMonth();
  const day = d.getUTCDate();
  switch (schedule.type) {
    case "interval": {
      const seconds = schedule.seconds ?? (schedule.minutes ?? 0) * 60 + (schedule.hours ?? 0) * 3600;
      return now + Math.max(1, seconds) * 1000;
    }
    case "hourly": {
      let t = Date.UTC(y, mo, day, d.getUTCHours(), schedule.minuteUTC ?? 0);
      if (t <= now) t += 3_600_000;
      return t;
    }
    case "daily": {
      let t = Date.UTC(y, mo, day, schedule.hourUTC, schedule.minuteUTC ?? 0);
      if (t <= now) t += 86_400_000;
      return t;
    }
    case "weekly": {
      const target = DAYS.indexOf(schedule.dayOfWeek);
      if (target < 0) return null;
      let t = Date.UTC(y, mo, day, schedule.hourUTC, schedule.minuteUTC ?? 0);
      t += ((target - d.getUTCDay() + 7) % 7) * 86_400_000;
      if (t <= now) t += 7 * 86_400_000;
      return t;
    }
    case "monthly": {
      let t = Date.UTC(y, mo, schedule.day, schedule.hourUTC, schedule.minuteUTC ?? 0);
      if (t <= now) t = Date.UTC(y, mo + 1, schedule.day, schedule.hourUTC, schedule.minuteUTC ?? 0);
      return t;
    }
    default:
      return null;
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
