/**
 * The scheduler: committed `_scheduled_functions` jobs and the crons of `convex/crons.ts`, run on
 * this process's timers.
 *
 * convex-test schedules a job with its own `setTimeout` at the moment `ctx.scheduler.runAfter`
 * is called. A long-lived backend cannot use that: the timer outlives neither a restart nor a hot
 * reload, and Node fires any delay over 2^31-1 ms (about 24.8 days) at once. So the patch turns
 * it off (`externalScheduler`) and jobs are armed from commits instead: a commit that makes a job
 * pending arms it, one that cancels or deletes it disarms it, and after a restart every pending
 * job is armed again from the data. Long delays are waited out in chunks. The job itself runs
 * through convex-test's own `runScheduledFunction`, so its state moves as convex-test's would.
 */
import { jsonToConvex, type JSONValue } from "convex/values";
import { callStore, newCallContext, type CallContext } from "./context.ts";
import type { Engine, ScheduledJobDoc } from "./convexTestAdapter.ts";
import { canonicalizeUdfPath } from "./protocol.ts";
import type { DocumentChange } from "./readset.ts";

/** Node's longest timer; a longer delay is waited out in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What the scheduler needs from the runtime that owns it. */
export type SchedulerHost = {
  /** The deployment environment the jobs see. */
  env: Record<string, string>;
  /** Receives a job's (`S(name)`) or cron's (`C(name)`) log lines. */
  onFunctionLogs?: ((label: string, lines: string[]) => void) | undefined;
  counters: { scheduledRuns: number };
  /** Waits for the gate (a hot reload in progress) and returns the engine in service; throws once closing. */
  enter(): Promise<Engine>;
  exit(): void;
  /** Makes what a job committed durable. */
  flush(): void;
  isClosed(): boolean;
};

/** What one commit does to the job timers: jobs that became pending, jobs canceled or deleted. */
export type JobTimerChanges = { arm: { id: string; time: number }[]; disarm: string[] };

export class Scheduler {
  private readonly host: SchedulerHost;
  private readonly jobTimers = new Map<string, NodeJS.Timeout>();
  private readonly cronTimers = new Set<NodeJS.Timeout>();

  constructor(host: SchedulerHost) {
    this.host = host;
  }

  /** Read off a commit's writes, inside the commit; applied (`applyJobChanges`) once it is done. */
  jobChanges(changes: readonly DocumentChange[]): JobTimerChanges {
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
    return { arm: jobs, disarm: cancelled };
  }

  applyJobChanges(changes: JobTimerChanges): void {
    for (const job of changes.arm) this.armJob(job.id, job.time);
    for (const id of changes.disarm) this.disarmJob(id);
  }

  /** Clears every timer (the backend is closing). */
  stop(): void {
    for (const t of this.jobTimers.values()) clearTimeout(t);
    this.jobTimers.clear();
    for (const t of this.cronTimers) clearTimeout(t);
    this.cronTimers.clear();
  }

  private armJob(jobId: string, scheduledTime: number): void {
    if (this.host.isClosed()) return;
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
          const job = engine.scheduledJob(jobId);
          if (!job || job.state.kind !== "pending") return;
          label = job.name;
          this.host.counters.scheduledRuns++;
          await callStore.run(ctx, () => engine.runScheduledJob(jobId, job));
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
      engine = await this.host.enter();
    } catch {
      return;
    }
    const ctx = newCallContext(this.host.env);
    try {
      await body(engine, ctx);
    } finally {
      this.host.exit();
      this.host.flush();
      if (ctx.logLines.length > 0) this.host.onFunctionLogs?.(label(), ctx.logLines);
    }
  }

  /** After a restart: arm pending jobs; a job that was running when the process died failed. */
  restore(engine: Engine): void {
    const interrupted: string[] = [];
    for (const id of engine.scheduledJobIds()) {
      const job = engine.scheduledJob(id);
      if (!job) continue;
      if (job.state.kind === "pending") this.armJob(id, job.scheduledTime);
      else if (job.state.kind === "inProgress") interrupted.push(id);
    }
    if (interrupted.length > 0) void this.failInterruptedJobs(interrupted);
  }

  private async failInterruptedJobs(ids: string[]): Promise<void> {
    const engine = await this.host.enter();
    try {
      await callStore.run(newCallContext(this.host.env), () => engine.failJobs(ids));
    } finally {
      this.host.exit();
      this.host.flush();
    }
  }

  /** (Re-)arms every cron of `convex/crons.ts` in this engine generation. */
  armCrons(engine: Engine): void {
    for (const t of this.cronTimers) clearTimeout(t);
    this.cronTimers.clear();
    const crons = (engine.crons as { crons?: Record<string, CronSpec> } | undefined)?.crons;
    if (!crons) return;
    for (const [name, spec] of Object.entries(crons)) this.armCron(name, spec);
  }

  private armCron(name: string, spec: CronSpec): void {
    if (this.host.isClosed()) return;
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
            await engine.runFunction(fnPath, jsonToConvex(spec.args[0] ?? {}));
          });
        } catch (error) {
          ctx.logLines.push(
            `[ERROR] cron ${name} failed: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
      },
    );
  }
}

// ---------- cron schedules (the shapes convex/server's cronJobs() records) ----------

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
