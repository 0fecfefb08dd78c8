/**
 * Query results shared by subscriptions, keyed by (identity, function, arguments, journal): every
 * socket subscribed to the same query as the same user reads one entry, so a commit re-runs it
 * once however many subscribers it has.
 *
 * An entry remembers what its last run read (readset.ts). A commit whose writes touch that read
 * set makes it stale; a commit during a run is checked against what the run has read so far and
 * marks it to run again when it finishes, so no write between "read" and "done" is missed.
 * Subscribers are woken and pull the fresh result through `resolve`; each keeps the `version` it
 * last saw and asks `isFresh` whether there is anything newer.
 */
import type { JSONValue } from "convex/values";
import { identityKey, type Identity } from "./auth.ts";
import { nestsDeeperThan } from "./limits.ts";
import { canonicalizeUdfPath, failureOf, type FunctionResult } from "./protocol.ts";
import { ReadSet, type DocumentChange } from "./readset.ts";

export interface QuerySubscriber {
  /** The entry's result changed or is about to: schedule an update. */
  wake(): void;
}

export class QueryEntry {
  readonly key: string;
  readonly udfPath: string;
  readonly argsJson: JSONValue;
  readonly identity: Identity | null;
  readonly identityKey: string;
  readonly journalIn: string | null;
  result: FunctionResult | null = null;
  reads: ReadSet | null = null;
  runningReads: ReadSet | null = null;
  running: Promise<void> | null = null;
  stale = true;
  invalidatedWhileRunning = false;
  /** Increments on every run, so a subscriber can tell it has not seen the latest result. */
  version = 0;
  readonly subscribers = new Set<QuerySubscriber>();

  constructor(
    key: string,
    udfPath: string,
    argsJson: JSONValue,
    identity: Identity | null,
    identityKey: string,
    journalIn: string | null,
  ) {
    this.key = key;
    this.udfPath = udfPath;
    this.argsJson = argsJson;
    this.identity = identity;
    this.identityKey = identityKey;
    this.journalIn = journalIn;
  }
}

/** What one commit did to the cache. */
export type Invalidation = {
  /** Entries invalidated (each is re-run once). */
  invalidated: number;
  /** Subscriptions of those entries. */
  affected: number;
  /** Subscribers to wake once the commit is done. */
  toWake: Set<QuerySubscriber>;
};

/** Runs a query for an entry, recording what it reads into `reads`. */
export type QueryExecutor = (entry: QueryEntry, reads: ReadSet) => Promise<FunctionResult>;

export class QueryCache {
  private readonly entries = new Map<string, QueryEntry>();
  /** Counts query entries whose arguments are too nested to share (see acquire). */
  private tooNestedEntries = 0;
  private readonly execute: QueryExecutor;
  private readonly counters: { queryRuns: number };

  constructor(execute: QueryExecutor, counters: { queryRuns: number }) {
    this.execute = execute;
    this.counters = counters;
  }

  /** Distinct cached results. */
  get size(): number {
    return this.entries.size;
  }

  acquire(
    identity: Identity | null,
    udfPath: string,
    argsJson: JSONValue,
    journal: string | null,
    sub: QuerySubscriber,
  ): QueryEntry {
    const canonical = canonicalizeUdfPath(udfPath);
    const idKey = identityKey(identity);
    // Arguments too deeply nested to stringify are refused by run() (TooNestedError); their
    // entry gets a key of its own instead of a shared one.
    const key = nestsDeeperThan(argsJson)
      ? `too-nested:${++this.tooNestedEntries}`
      : JSON.stringify([idKey, canonical, argsJson, journal]);
    let entry = this.entries.get(key);
    if (!entry) {
      entry = new QueryEntry(key, canonical, argsJson, identity, idKey, journal);
      this.entries.set(key, entry);
    }
    entry.subscribers.add(sub);
    return entry;
  }

  release(entry: QueryEntry, sub: QuerySubscriber): void {
    entry.subscribers.delete(sub);
    if (entry.subscribers.size === 0 && !entry.running && this.entries.get(entry.key) === entry) {
      this.entries.delete(entry.key);
    }
  }

  /**
   * After a run that produced a new journal, the subscription moves to the entry keyed by it;
   * seed that entry with the run's result (same snapshot, same reads).
   */
  rekey(entry: QueryEntry, journal: string | null, sub: QuerySubscriber): QueryEntry {
    const next = this.acquire(entry.identity, entry.udfPath, entry.argsJson, journal, sub);
    if (next !== entry && next.result === null && !next.running && entry.result) {
      next.result = entry.result;
      next.reads = entry.reads;
      next.stale = entry.stale;
      next.version = 1;
    }
    this.release(entry, sub);
    return next;
  }

  /**
   * Whether a subscriber that last saw `seenVersion` of this entry has its latest result: no commit
   * has invalidated it, no run is under way, and none has finished since.
   */
  isFresh(entry: QueryEntry, seenVersion: number): boolean {
    return !entry.stale && !entry.running && entry.version === seenVersion;
  }

  /** The entry's current result, re-running it if a commit invalidated it. */
  async resolve(entry: QueryEntry): Promise<FunctionResult> {
    while (entry.stale || entry.running) {
      if (entry.running) {
        await entry.running;
        continue;
      }
      entry.running = this.runEntry(entry);
      await entry.running;
    }
    return entry.result!;
  }

  private async runEntry(entry: QueryEntry): Promise<void> {
    entry.stale = false;
    entry.invalidatedWhileRunning = false;
    const reads = new ReadSet();
    entry.runningReads = reads;
    try {
      const result = await this.execute(entry, reads);
      entry.result = result;
      entry.reads = reads;
      entry.version++;
      this.counters.queryRuns++;
      if (entry.invalidatedWhileRunning) entry.stale = true;
    } catch (error) {
      entry.result = failureOf(error, []);
      entry.reads = reads;
      entry.version++;
    } finally {
      entry.runningReads = null;
      entry.running = null;
      if (entry.subscribers.size === 0 && this.entries.get(entry.key) === entry)
        this.entries.delete(entry.key);
    }
  }

  /** Marks the entries a commit's writes can change (runs synchronously inside the commit). */
  invalidate(changes: readonly DocumentChange[]): Invalidation {
    let invalidated = 0;
    let affected = 0;
    const toWake = new Set<QuerySubscriber>();
    for (const entry of this.entries.values()) {
      if (entry.running) {
        if (entry.runningReads?.affectedBy(changes) || entry.reads?.affectedBy(changes)) {
          if (!entry.invalidatedWhileRunning) {
            entry.invalidatedWhileRunning = true;
            invalidated++;
            affected += entry.subscribers.size;
          }
          for (const s of entry.subscribers) toWake.add(s);
        }
      } else if (!entry.stale && entry.reads?.affectedBy(changes)) {
        entry.stale = true;
        invalidated++;
        affected += entry.subscribers.size;
        for (const s of entry.subscribers) toWake.add(s);
      }
    }
    return { invalidated, affected, toWake };
  }

  /** Every entry must run again (hot reload: the functions may have changed). */
  invalidateAll(): void {
    for (const entry of this.entries.values()) {
      if (entry.running) entry.invalidatedWhileRunning = true;
      else entry.stale = true;
    }
  }

  /** Everyone subscribed to any entry. */
  subscribers(): Set<QuerySubscriber> {
    const subs = new Set<QuerySubscriber>();
    for (const entry of this.entries.values()) for (const s of entry.subscribers) subs.add(s);
    return subs;
  }
}
