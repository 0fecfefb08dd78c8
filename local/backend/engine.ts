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
import { convexTest } from "convex-test";
import { makeFunctionReference } from "convex/server";
import { convexToJson, jsonToConvex, type JSONValue, type Value } from "convex/values";
import { MAX_VALUE_NESTING, nestsDeeperThan } from "./limits.ts";
import {
  AuthFailure,
  AuthVerifier,
  identityKey,
  providersFromConfig,
  type AuthProviderConfig,
  type Identity,
} from "./auth.ts";
import { callStore, installCallGlobals, newCallContext, type CallContext } from "./context.ts";
import { Journal, type ReplayRecord, type StoredState } from "./journal.ts";
import { ModuleGeneration } from "./modules.ts";
import {
  canonicalizeUdfPath,
  Clock,
  failureOf,
  isConvexError,
  newRequestId,
  type FunctionResult,
  type UdfType,
} from "./protocol.ts";
import { QueryCache } from "./queryCache.ts";
import {
  parseCursor,
  ReadSet,
  sourceTable,
  tableNameFromId,
  type Document,
  type DocumentChange,
  type QuerySource,
} from "./readset.ts";

type SerializedQuery = { source: QuerySource; operators: ({ limit: number } | { filter: unknown })[] };

function limitOf(query: SerializedQuery): number | null {
  for (const op of query.operators) if ("limit" in op) return op.limit;
  return null;
}

// ---------- convex-test internals (see patches/convex-test+0.0.70.patch) ----------

type DatabaseFake = {
  _documents: Record<string, Document>;
  _tableIds: Map<string, Set<string>>;
  _storage: Record<string, unknown>;
  _nextDocId: number;
  _lastCreationTime: number;
  _writes: Record<string, Document | null>[];
  _schema: { tables: Map<string, { indexes: { indexDescriptor: string; fields: string[] }[] }> } | null;
  commit(commitTs: bigint | null): void;
  patch(table: string, id: string, value: Record<string, JSONValue>): void;
};

type ConvexGlobal = {
  components: Record<string, { db: DatabaseFake }>;
  transactionManager: { _lastCommitTs: bigint };
  syscall: (op: string, json: string) => string;
  asyncSyscall: (op: string, json: string) => Promise<string>;
  externalScheduler?: boolean;
};

type Accessor = {
  query(ref: unknown, args: unknown): Promise<unknown>;
  mutation(ref: unknown, args: unknown): Promise<unknown>;
  action(ref: unknown, args?: unknown): Promise<unknown>;
  withIdentity(identity: Record<string, unknown>): Accessor;
};

type TestInstance = Accessor & {
  _localBackend?: {
    convexGlobal: ConvexGlobal;
    runScheduledFunction(job: { jobId: string; udfPath: string; args: Value }): Promise<void>;
  };
};

type RegisteredFunction = {
  isQuery?: boolean;
  isMutation?: boolean;
  isAction?: boolean;
  isPublic?: boolean;
  isInternal?: boolean;
};

type HttpRouterLike = {
  lookup(path: string, method: string): readonly [unknown, string, string] | null;
};

type HttpHandler = (ctx: Record<string, unknown>, request: Request) => Promise<Response>;

type ScheduledJobDoc = Document & {
  name: string;
  args: Value[];
  scheduledTime: number;
  state: { kind: string };
};

function typeName(fn: RegisteredFunction): string {
  return fn.isQuery ? "Query" : fn.isMutation ? "Mutation" : fn.isAction ? "Action" : "HttpAction";
}

// ---------- one engine generation ----------

class Engine {
  readonly modules: ModuleGeneration;
  readonly t: TestInstance;
  readonly cg: ConvexGlobal;
  readonly db: DatabaseFake;
  readonly authProviders: AuthProviderConfig[];
  readonly crons: unknown;
  private readonly accessors = new Map<string, Accessor>();

  private constructor(
    modules: ModuleGeneration,
    t: TestInstance,
    authProviders: AuthProviderConfig[],
    crons: unknown,
  ) {
    this.modules = modules;
    this.t = t;
    const local = t._localBackend;
    if (!local) {
      throw new Error(
        "convex-test is not patched for the local backend: run `npx patch-package` (patches/convex-test+*.patch)",
      );
    }
    this.cg = local.convexGlobal;
    const root = this.cg.components[""];
    if (!root) throw new Error("convex-test has no root component");
    this.db = root.db;
    this.authProviders = authProviders;
    this.crons = crons;
  }

  static async create(convexDir: string, env: Record<string, string>): Promise<Engine> {
    const modules = new ModuleGeneration(convexDir);
    if (!modules.files.some((f) => f.startsWith("_generated/"))) {
      throw new Error(`${convexDir} has no _generated/ directory (run \`npx convex codegen\`)`);
    }
    const ctx = newCallContext(env);
    const loaded = await callStore.run(ctx, async () => {
      // Import everything up front: module-level code sees the deployment env, and a broken
      // module fails this generation (like a failed push) instead of a later call.
      for (const modulePath of modules.entryPoints) await modules.import(modulePath);
      const schema = modules.has("schema") ? (await modules.import("schema"))["default"] : undefined;
      const authConfig = modules.has("auth.config")
        ? (await modules.import("auth.config"))["default"]
        : undefined;
      const crons = modules.isEntryPoint("crons") ? (await modules.import("crons"))["default"] : undefined;
      return { schema, authConfig, crons };
    });
    const options = {
      schema: loaded.schema,
      modules: captureMutationResults(modules.convexTestModules()),
      transactionLimits: true,
    };
    const t = convexTest(options as Parameters<typeof convexTest>[0]) as unknown as TestInstance;
    return new Engine(modules, t, providersFromConfig(loaded.authConfig), loaded.crons);
  }

  accessorFor(identity: Identity | null, key: string): Accessor {
    if (identity === null) return this.t;
    let acc = this.accessors.get(key);
    if (!acc) {
      acc = this.t.withIdentity(identity);
      if (this.accessors.size > 1000) this.accessors.clear();
      this.accessors.set(key, acc);
    }
    return acc;
  }

  /** Resolves a client-callable function: public, of the expected type. */
  async resolvePublic(
    canonical: string,
    kind: UdfType | "any",
  ): Promise<{ ok: true; kind: UdfType } | { ok: false; message: string }> {
    const [modulePath = "", exportName = "default"] = canonical.split(":");
    const notFound = {
      ok: false as const,
      message: `Could not find public function for '${canonical}'. Did you forget to run \`npx convex dev\` or \`npx convex deploy\`?`,
    };
    if (!this.modules.isEntryPoint(modulePath)) return notFound;
    let fn: RegisteredFunction | undefined;
    try {
      fn = (await this.modules.import(modulePath))[exportName] as RegisteredFunction | undefined;
    } catch {
      return notFound;
    }
    if (!fn || (typeof fn !== "object" && typeof fn !== "function") || fn.isPublic !== true) return notFound;
    const actual: UdfType | null = fn.isQuery
      ? "query"
      : fn.isMutation
        ? "mutation"
        : fn.isAction
          ? "action"
          : null;
    if (actual === null) return notFound;
    if (kind !== "any" && actual !== kind) {
      const expected = kind === "query" ? "Query" : kind === "mutation" ? "Mutation" : "Action";
      return {
        ok: false,
        message: `Trying to execute ${canonical} as ${expected}, but it is defined as ${typeName(fn)}.`,
      };
    }
    return { ok: true, kind: actual };
  }

  /** The sort key of a source as convex-test orders it (and encodes cursors): index fields, _creationTime, _id. */
  sortFields(source: QuerySource): string[] | null {
    if (source.type === "FullTableScan") return ["_creationTime", "_id"];
    if (source.type !== "IndexRange") return null;
    const index = source.indexName.split(".")[1];
    if (index === "by_creation_time") return ["_creationTime", "_id"];
    if (index === "by_id") return ["_id"];
    const fields = this.db._schema?.tables
      .get(sourceTable(source))
      ?.indexes.find((i) => i.indexDescriptor === index)?.fields;
    return fields ? [...fields, "_creationTime", "_id"] : null;
  }

  /** Puts documents into a fresh engine, keeping ids and creation times. */
  hydrate(state: StoredState): void {
    const docs: Record<string, Document> = {};
    const tableIds = new Map<string, Set<string>>();
    for (const [id, json] of state.docs) {
      const table = tableNameFromId(id);
      if (table === null) continue;
      docs[id] = jsonToConvex(json) as Document;
      let set = tableIds.get(table);
      if (!set) tableIds.set(table, (set = new Set()));
      set.add(id);
    }
    this.db._documents = docs;
    this.db._tableIds = tableIds;
    this.db._nextDocId = Math.max(this.db._nextDocId, state.nextDocId);
    this.db._lastCreationTime = Math.max(this.db._lastCreationTime, state.lastCreationTime);
    this.cg.transactionManager._lastCommitTs = state.lastCommitTs;
  }

  /** Moves the committed state of a previous generation into this one (hot reload). */
  adopt(previous: Engine): void {
    this.db._documents = { ...previous.db._documents };
    this.db._tableIds = new Map([...previous.db._tableIds].map(([t, ids]) => [t, new Set(ids)]));
    this.db._storage = { ...previous.db._storage };
    this.db._nextDocId = previous.db._nextDocId;
    this.db._lastCreationTime = previous.db._lastCreationTime;
    this.cg.transactionManager._lastCommitTs = previous.cg.transactionManager._lastCommitTs;
  }

  /** The committed state, for a snapshot. */
  storedState(): StoredState {
    const docs = new Map<string, Record<string, JSONValue>>();
    for (const [id, doc] of Object.entries(this.db._documents)) {
      docs.set(id, convexToJson(doc as Value) as Record<string, JSONValue>);
    }
    return {
      docs,
      nextDocId: this.db._nextDocId,
      lastCreationTime: this.db._lastCreationTime,
      lastCommitTs: this.cg.transactionManager._lastCommitTs,
    };
  }
}

const CAPTURING = Symbol.for("gatehouse.localBackend.capturesResult");

/**
 * convex-test commits a mutation after its handler returns and before its caller sees the
 * value, so the value a client's mutation returned is not known at commit time — unless the
 * handler hands it over. Each mutation's handler is wrapped (once per module generation) to put
 * its return value into the call's `replay` slot, which the commit journals (see onCommit).
 */
function captureMutationResults(
  loaders: Record<string, () => Promise<Record<string, unknown>>>,
): Record<string, () => Promise<Record<string, unknown>>> {
  const wrapped: Record<string, () => Promise<Record<string, unknown>>> = {};
  for (const [path, load] of Object.entries(loaders)) {
    wrapped[path] = async () => {
      const module = await load();
      for (const fn of Object.values(module)) {
        const mutation = fn as { isMutation?: boolean; _handler?: unknown; [CAPTURING]?: true } | null;
        if (!mutation?.isMutation || typeof mutation._handler !== "function" || mutation[CAPTURING]) continue;
        const handler = mutation._handler as (ctx: unknown, args: unknown) => Promise<unknown>;
        mutation._handler = async (ctx: unknown, args: unknown) => {
          const value = await handler(ctx, args);
          const call = callStore.getStore();
          if (call?.replay) call.replay.result = { value };
          return value;
        };
        mutation[CAPTURING] = true;
      }
      return module;
    };
  }
  return wrapped;
}

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

type JournalIn = { endCursor: string } | null;

function parseJournal(journal: string | null | undefined): JournalIn {
  if (!journal) return null;
  try {
    const parsed = JSON.parse(journal) as { endCursor?: unknown };
    return typeof parsed.endCursor === "string" ? { endCursor: parsed.endCursor } : null;
  } catch {
    return null;
  }
}

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

  private constructor(options: RuntimeOptions) {
    this.options = options;
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
    this.wrapSyscalls(engine);
    this.wrapCommit(engine);
    this.engine = engine;
    this.generation++;
    this.verifier.setProviders(engine.authProviders);
  }

  /** Runs `fn` outside any function's async context (no convex-test or call store leaks). */
  private defer(fn: () => void): void {
    this.root(() => setImmediate(fn));
  }

  // ----- syscall and commit observation -----

  private wrapSyscalls(engine: Engine): void {
    const cg = engine.cg;
    const syscall = cg.syscall;
    const asyncSyscall = cg.asyncSyscall;
    cg.syscall = (op, json) => {
      const out = syscall(op, json);
      const reads = callStore.getStore()?.reads;
      if (reads && op === "1.0/queryStream") {
        const { query } = JSON.parse(json) as { query: SerializedQuery };
        const { queryId } = JSON.parse(out) as { queryId: number };
        reads.openStream(queryId, query.source, engine.sortFields(query.source), limitOf(query));
      }
      return out;
    };
    cg.asyncSyscall = async (op, json) => {
      const ctx = callStore.getStore();
      if (!ctx?.reads) return asyncSyscall(op, json);
      const reads = ctx.reads;
      switch (op) {
        case "1.0/get": {
          const { id } = JSON.parse(json) as { id: string };
          reads.addId(id);
          return asyncSyscall(op, json);
        }
        case "1.0/count": {
          reads.addTable((JSON.parse(json) as { table: string }).table);
          return asyncSyscall(op, json);
        }
        case "1.0/queryStreamNext": {
          const out = await asyncSyscall(op, json);
          const { queryId } = JSON.parse(json) as { queryId: number };
          const { value, done } = jsonToConvex(JSON.parse(out) as JSONValue) as {
            value: Document | null;
            done: boolean;
          };
          reads.streamNext(queryId, value, done);
          return out;
        }
        case "1.0/queryPage":
          return this.trackedPage(engine, ctx, reads, json, asyncSyscall);
        default:
          return asyncSyscall(op, json);
      }
    };
  }

  /** A page read by a subscription: record the consumed interval and pin its end cursor (§6.6). */
  private async trackedPage(
    engine: Engine,
    ctx: CallContext,
    reads: ReadSet,
    json: string,
    next: (op: string, json: string) => Promise<string>,
  ): Promise<string> {
    const args = JSON.parse(json) as {
      query: SerializedQuery;
      cursor: string | null;
      endCursor?: string | null;
    };
    let pinned: string | null = null;
    if (ctx.journalIn && (args.endCursor === null || args.endCursor === undefined)) {
      pinned = ctx.journalIn.endCursor;
      args.endCursor = pinned;
    }
    let out = await next("1.0/queryPage", pinned === null ? json : JSON.stringify(args));
    const result = JSON.parse(out) as { continueCursor: string; isDone: boolean };
    if (pinned !== null && pinned !== "_end_cursor" && result.continueCursor === "_end_cursor") {
      // convex-test ends the page without a cursor when the boundary document was deleted;
      // the page still ends at the pinned cursor.
      result.continueCursor = pinned;
      result.isDone = false;
      out = JSON.stringify(result);
    }
    ctx.journalOut = { endCursor: result.continueCursor };
    reads.addSource(args.query.source, engine.sortFields(args.query.source), {
      after: parseCursor(args.cursor),
      upTo: result.isDone ? null : parseCursor(result.continueCursor),
    });
    return out;
  }

  private wrapCommit(engine: Engine): void {
    const db = engine.db;
    const commit = db.commit.bind(db);
    db.commit = (commitTs) => {
      const layer = db._writes.length === 1 ? db._writes[0] : undefined;
      if (!layer) return commit(commitTs);
      const ids = Object.keys(layer);
      const before = ids.map((id) => db._documents[id] ?? null);
      commit(commitTs);
      try {
        this.onCommit(
          engine,
          ids.map((id, i) => ({
            id,
            table: tableNameFromId(id) ?? "",
            before: before[i] ?? null,
            after: db._documents[id] ?? null,
          })),
        );
      } catch (error) {
        // Never break convex-test's transaction manager; report loudly instead.
        this.root(() => console.error("[local backend] commit bookkeeping failed:", error));
      }
    };
  }

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
    options: { reads?: ReadSet; journal?: string | null; replayKey?: string } = {},
  ): Promise<FunctionResult & { kind?: UdfType }> {
    const canonical = canonicalizeUdfPath(udfPath);
    const engine = await this.enter();
    try {
      const resolved = await engine.resolvePublic(canonical, kind);
      if (!resolved.ok) return { ok: false, message: resolved.message, logLines: [], journal: null };
      const ctx = newCallContext(this.options.env, options.reads ?? null);
      ctx.journalIn = parseJournal(options.journal);
      if (options.replayKey !== undefined && resolved.kind === "mutation")
        ctx.replay = { key: options.replayKey };
      if (nestsDeeperThan(argsJson)) {
        const message = `TooNestedError: Value is too nested (more than the maximum nesting of ${MAX_VALUE_NESTING} levels)`;
        return { ok: false, message, logLines: [], journal: null };
      }
      let args: Value;
      try {
        args = jsonToConvex(argsJson);
      } catch (error) {
        return failureOf(error, []);
      }
      const acc = engine.accessorFor(identity, identityKey(identity));
      const ref = makeFunctionReference(canonical);
      if (resolved.kind === "mutation") this.counters.mutations++;
      if (resolved.kind === "action") this.counters.actions++;
      const label = `${resolved.kind === "query" ? "Q" : resolved.kind === "mutation" ? "M" : "A"}(${canonical})`;
      try {
        const value = await callStore.run(ctx, () => acc[resolved.kind](ref, args));
        if (ctx.logLines.length > 0) this.options.onFunctionLogs?.(label, ctx.logLines);
        return {
          ok: true,
          kind: resolved.kind,
          value: convexToJson((value === undefined ? null : value) as Value),
          logLines: ctx.logLines,
          journal: ctx.journalOut ? JSON.stringify(ctx.journalOut) : null,
          ...(resolved.kind === "mutation" ? { ts: ctx.commitTs ?? this.clock.current } : {}),
        };
      } catch (error) {
        const failure = failureOf(error, ctx.logLines);
        if (!failure.ok)
          this.options.onFunctionLogs?.(label, [...ctx.logLines, `[ERROR] ${failure.message}`]);
        return { ...failure, kind: resolved.kind };
      }
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
      const notFound = () => new Response(`No HttpAction routed for ${path}`, { status: 404 });
      if (!engine.modules.isEntryPoint("http")) return notFound();
      const router = (await engine.modules.import("http"))["default"] as HttpRouterLike | undefined;
      const found = router?.lookup(path, request.method);
      if (!found) return notFound();
      // Same unwrap as convex-test: the registered httpAction is a "don't call directly" wrapper.
      const fn = found[0] as HttpHandler & { _handler?: HttpHandler };
      const handler: HttpHandler = fn._handler ?? fn;
      const identity = auth instanceof AuthFailure ? null : auth;
      const acc = engine.accessorFor(identity, identityKey(identity));
      let response: Response | undefined;
      try {
        await callStore.run(ctx, () =>
          acc.action(async (actionCtx: Record<string, unknown>) => {
            const handlerCtx =
              auth instanceof AuthFailure
                ? { ...actionCtx, auth: { getUserIdentity: () => Promise.reject(new Error(auth.message)) } }
                : actionCtx;
            response = await handler(handlerCtx, request);
            return null;
          }),
        );
      } catch (error) {
        const requestId = newRequestId();
        const message = error instanceof Error ? error.message : String(error);
        const body: Record<string, unknown> = {
          code: `[Request ID: ${requestId}] Server Error: Uncaught ${error instanceof Error ? error.name : "Error"}: ${message}`,
          trace: error instanceof Error ? (error.stack ?? String(error)) : String(error),
        };
        if (isConvexError(error)) body["data"] = convexToJson(error.data === undefined ? null : error.data);
        return new Response(JSON.stringify(body), {
          status: 500,
          headers: { "content-type": "application/json" },
        });
      }
      if (!(response instanceof Response)) {
        return new Response("HTTP action did not return a Response", { status: 500 });
      }
      return response;
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
