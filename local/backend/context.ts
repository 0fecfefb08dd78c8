/**
 * The per-call context of a function execution, and the two process globals the functions see
 * through it: `console` (captured into Convex log lines) and `process.env` (the deployment's
 * environment, not the server's). Both are installed once per process and are transparent to
 * code running outside a function call.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { formatLogLine, type LogLevel } from "./protocol.ts";
import type { ReadSet } from "./readset.ts";

export type CallContext = {
  /** The deployment environment `process.env` shows inside the call. */
  env: Record<string, string>;
  /** Log lines of this call (and its nested calls). */
  logLines: string[];
  /** Set for tracked (subscription) query runs: what the query read. */
  reads: ReadSet | null;
  /**
   * Pagination journal in and out: the end cursor of the page a subscription's query returned,
   * which its re-runs must keep (Convex's `QueryJournal`, readTracking.ts links it).
   */
  journalIn: { endCursor: string } | null;
  journalOut: { endCursor: string } | null;
  /** Timestamp of the commit made directly by this call's top-level mutation. */
  commitTs: bigint | null;
  /**
   * Set for a client's mutation: its replay key, and the value its handler returned (captured
   * before the commit), journaled with the commit so a resend after a crash is answered from it.
   */
  replay: { key: string; result?: { value: unknown } } | null;
};

export const callStore = new AsyncLocalStorage<CallContext>();

export function newCallContext(env: Record<string, string>, reads: ReadSet | null = null): CallContext {
  return { env, logLines: [], reads, journalIn: null, journalOut: null, commitTs: null, replay: null };
}

const LEVELS: Record<string, LogLevel> = {
  log: "LOG",
  info: "INFO",
  warn: "WARN",
  error: "ERROR",
  debug: "DEBUG",
  trace: "LOG",
};

const installedKey = Symbol.for("gatehouse.localBackend.globalsInstalled");

type GlobalWithMarker = typeof globalThis & { [installedKey]?: true };

/**
 * Installs the console and process accessors (idempotent). convex-test wraps these globals in
 * its own per-handler accessors; it reads ours as the default, so both compose.
 */
export function installCallGlobals(): void {
  const g = globalThis as GlobalWithMarker;
  if (g[installedKey]) return;
  g[installedKey] = true;

  // An accessor (not a plain value) so a later `console = …` by a test runner keeps capturing.
  let underlying = globalThis.console;
  const capturing = memoized(
    (base: Console): Console =>
      new Proxy(base, {
        get(target, prop, receiver) {
          const ctx = callStore.getStore();
          if (ctx && typeof prop === "string") {
            const level = LEVELS[prop];
            if (level) return (...args: unknown[]) => void ctx.logLines.push(formatLogLine(level, args));
          }
          return Reflect.get(target, prop, receiver) as unknown;
        },
      }),
  );
  defineGlobalAccessor("console", {
    get: () => capturing(underlying),
    set: (value: Console) => {
      underlying = value;
    },
  });

  const realProcess = process;
  const processFor = memoized(
    (env: Record<string, string>): NodeJS.Process =>
      new Proxy(realProcess, {
        get(target, prop) {
          if (prop === "env") return env;
          return Reflect.get(target, prop) as unknown;
        },
      }),
  );
  defineGlobalAccessor("process", {
    get() {
      const ctx = callStore.getStore();
      return ctx ? processFor(ctx.env) : realProcess;
    },
    set() {
      // Replacing `process` is not supported; ignore like a frozen global would.
    },
  });
}

/** `make`, called once per key (held weakly): the same key always gets the same value. */
function memoized<K extends object, V>(make: (key: K) => V): (key: K) => V {
  const cache = new WeakMap<K, V>();
  return (key) => {
    let value = cache.get(key);
    if (!value) {
      value = make(key);
      cache.set(key, value);
    }
    return value;
  };
}

/** Turns the global `name` into a configurable accessor, keeping whether it was enumerable. */
function defineGlobalAccessor(
  name: "console" | "process",
  accessor: Pick<PropertyDescriptor, "get" | "set">,
): void {
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, name);
  Object.defineProperty(globalThis, name, {
    configurable: true,
    enumerable: descriptor?.enumerable ?? false,
    ...accessor,
  });
}
