/**
 * One session's query subscriptions, and what changed in them since the last Transition.
 *
 * Each subscription reads a shared cached result (queryCache.ts) and remembers the version it
 * last saw and a hash of what it last sent, so an update round re-runs only invalidated
 * results and sends only the ones that changed. A paginated query that returns a new journal
 * (its page's end cursor) moves to the entry keyed by that journal.
 */
import type { JSONValue } from "convex/values";
import type { Identity } from "./auth.ts";
import { componentRefusal, type AddQuery, type FunctionResult, type StateModification } from "./protocol.ts";
import type { QueryCache, QueryEntry, QuerySubscriber } from "./queryCache.ts";

type Subscription = {
  queryId: number;
  udfPath: string;
  argsJson: JSONValue;
  journal: string | null;
  /** Set when the client asked for a component's function: it fails without running. */
  componentPath: string | null;
  entry: QueryEntry | null;
  seenVersion: number;
  hash: string | null;
};

export class QuerySet {
  private readonly cache: QueryCache;
  /** The session: woken when an entry it reads is invalidated. */
  private readonly subscriber: QuerySubscriber;
  private readonly subs = new Map<number, Subscription>();
  private pendingRemovals: number[] = [];
  private identityChanged = false;

  constructor(cache: QueryCache, subscriber: QuerySubscriber) {
    this.cache = cache;
    this.subscriber = subscriber;
  }

  get size(): number {
    return this.subs.size;
  }

  add(mod: AddQuery): void {
    const existing = this.subs.get(mod.queryId);
    if (existing?.entry) this.cache.release(existing.entry, this.subscriber);
    this.subs.set(mod.queryId, {
      queryId: mod.queryId,
      udfPath: mod.udfPath,
      argsJson: mod.args[0] ?? {},
      journal: mod.journal ?? null,
      // Components are admin-only on Convex; the query fails with a clear message.
      componentPath: mod.componentPath ? mod.componentPath : null,
      entry: null,
      seenVersion: -1,
      hash: null,
    });
  }

  remove(queryId: number): void {
    const sub = this.subs.get(queryId);
    if (sub) {
      if (sub.entry) this.cache.release(sub.entry, this.subscriber);
      this.subs.delete(queryId);
    }
    this.pendingRemovals.push(queryId);
  }

  /** The session's identity changed: every query runs again as the new one (results still hash-deduped). */
  identityChangedNow(): void {
    this.identityChanged = true;
  }

  /** Releases every cached entry (the session closed). */
  clear(): void {
    for (const sub of this.subs.values()) if (sub.entry) this.cache.release(sub.entry, this.subscriber);
    this.subs.clear();
  }

  /**
   * The modifications for the next Transition: removed queries, then each query whose result
   * differs from what was last sent, run as `identity`.
   */
  async changes(identity: Identity | null): Promise<StateModification[]> {
    const modifications: StateModification[] = [];
    for (const queryId of this.pendingRemovals.splice(0)) {
      if (!this.subs.has(queryId)) modifications.push({ type: "QueryRemoved", queryId });
    }
    if (this.identityChanged) {
      this.identityChanged = false;
      for (const sub of this.subs.values()) {
        if (sub.entry) this.cache.release(sub.entry, this.subscriber);
        sub.entry = null;
        sub.seenVersion = -1;
      }
    }

    const work = [...this.subs.values()].map(async (sub) => {
      let result: FunctionResult;
      if (sub.componentPath !== null) {
        result = componentRefusal(sub.componentPath);
      } else {
        if (sub.entry === null)
          sub.entry = this.cache.acquire(identity, sub.udfPath, sub.argsJson, sub.journal, this.subscriber);
        const entry = sub.entry;
        if (this.cache.isFresh(entry, sub.seenVersion)) return null;
        result = await this.cache.resolve(entry);
        if (this.subs.get(sub.queryId) !== sub || sub.entry !== entry) return null;
        sub.seenVersion = entry.version;
        if (result.ok && result.journal !== null && result.journal !== sub.journal) {
          sub.journal = result.journal;
          sub.entry = this.cache.rekey(entry, result.journal, this.subscriber);
          sub.seenVersion = sub.entry.version;
        }
      }
      const hash = result.ok
        ? `ok:${JSON.stringify(result.value)}:${JSON.stringify(result.logLines)}`
        : `err:${result.message}:${JSON.stringify(result.errorData ?? null)}:${JSON.stringify(result.logLines)}`;
      if (hash === sub.hash) return null;
      sub.hash = hash;
      const modification: StateModification = result.ok
        ? {
            type: "QueryUpdated",
            queryId: sub.queryId,
            value: result.value,
            logLines: result.logLines,
            journal: sub.journal,
          }
        : {
            type: "QueryFailed",
            queryId: sub.queryId,
            errorMessage: result.message,
            logLines: result.logLines,
            journal: sub.journal,
            ...(result.errorData !== undefined ? { errorData: result.errorData } : {}),
          };
      return modification;
    });
    for (const m of await Promise.all(work)) if (m) modifications.push(m);
    return modifications;
  }
}
