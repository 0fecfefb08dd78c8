/**
 * The adapter over convex-test: one engine generation (a convex-test instance over one load of
 * the app's `convex/` modules), and the one module that types convex-test's private fields
 * (readTracking.ts wraps the syscall entry points it exposes as `cg`).
 *
 * convex-test is made to run one test at a time. A long-lived server also has to move committed
 * documents into a new instance (restart, hot reload), see what each top-level commit wrote, and
 * run committed scheduled jobs on its own timers; convex-test has no API for any of it. So this
 * file types the fields it needs (from node_modules/convex-test/dist/index.js, version 0.0.70)
 * and reaches them through `_localBackend`, which patches/convex-test+0.0.70.patch adds. A new
 * convex-test version means re-checking these types and the patch.
 */
import { convexTest } from "convex-test";
import { convexToJson, jsonToConvex, type JSONValue, type Value } from "convex/values";
import { providersFromConfig, type AuthProviderConfig, type Identity } from "./auth.ts";
import { callStore, newCallContext } from "./context.ts";
import type { StoredState } from "./journal.ts";
import { ModuleGeneration } from "./modules.ts";
import type { UdfType } from "./protocol.ts";
import {
  sourceTable,
  tableNameFromId,
  type Document,
  type DocumentChange,
  type QuerySource,
} from "./readset.ts";

// ---------- convex-test's internals, as dist/index.js 0.0.70 has them ----------

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

/** A row of `_scheduled_functions` as convex-test writes it. */
export type ScheduledJobDoc = Document & {
  name: string;
  args: Value[];
  scheduledTime: number;
  state: { kind: string };
};

function typeName(fn: RegisteredFunction): string {
  return fn.isQuery ? "Query" : fn.isMutation ? "Mutation" : fn.isAction ? "Action" : "HttpAction";
}

// ---------- one engine generation ----------

export class Engine {
  readonly modules: ModuleGeneration;
  private readonly t: TestInstance;
  /** The instance's globals; readTracking.ts wraps their syscalls. */
  readonly cg: ConvexGlobal;
  private readonly db: DatabaseFake;
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

  /** convex-test's accessor that runs functions as `identity` (kept per `key`, up to about 1000). */
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

  /** Turns off convex-test's own timers for scheduled jobs (the patch): scheduler.ts runs them. */
  useExternalScheduler(): void {
    this.cg.externalScheduler = true;
  }

  /** A committed `_scheduled_functions` row. */
  scheduledJob(id: string): ScheduledJobDoc | undefined {
    return this.db._documents[id] as ScheduledJobDoc | undefined;
  }

  /** The ids of every committed `_scheduled_functions` row. */
  scheduledJobIds(): Iterable<string> {
    return this.db._tableIds.get("_scheduled_functions") ?? [];
  }

  /** Runs a committed job as convex-test's own scheduler does (pending → inProgress → success/failed). */
  runScheduledJob(jobId: string, job: ScheduledJobDoc): Promise<void> {
    return this.t._localBackend!.runScheduledFunction({
      jobId,
      udfPath: job.name,
      args: job.args[0] ?? {},
    });
  }

  /** Runs any function by its path, internal ones included (what a cron names). */
  async runFunction(udfPath: string, args: Value): Promise<void> {
    const acc = this.t as unknown as {
      fun(path: { udfPath: string; componentPath: string }, args: Value): Promise<unknown>;
    };
    await acc.fun({ udfPath, componentPath: "" }, args);
  }

  /** Marks the jobs that still exist failed, in one mutation. */
  async failJobs(ids: string[]): Promise<void> {
    const db = this.db;
    await this.t.mutation(async () => {
      for (const id of ids) {
        if (db._documents[id])
          db.patch("_scheduled_functions", id, { state: { kind: "failed" }, completedTime: Date.now() });
      }
      return null;
    }, {});
  }

  /**
   * Calls `listener` synchronously after every top-level commit with what it wrote (each document
   * before and after). A nested transaction (`ctx.runMutation`) commits into its parent's write
   * layer, not the documents, so only a commit with a single layer makes writes visible.
   */
  observeCommits(listener: (changes: DocumentChange[]) => void): void {
    const db = this.db;
    const commit = db.commit.bind(db);
    db.commit = (commitTs) => {
      const layer = db._writes.length === 1 ? db._writes[0] : undefined;
      if (!layer) return commit(commitTs);
      const ids = Object.keys(layer);
      const before = ids.map((id) => db._documents[id] ?? null);
      commit(commitTs);
      listener(
        ids.map((id, i) => ({
          id,
          table: tableNameFromId(id) ?? "",
          before: before[i] ?? null,
          after: db._documents[id] ?? null,
        })),
      );
    };
  }
}

const CAPTURING = Symbol.for("gatehouse.localBackend.capturesResult");

/**
 * convex-test commits a mutation after its handler returns and before its caller sees the
 * value, so the value a client's mutation returned is not known at commit time — unless the
 * handler hands it over. Each mutation's handler is wrapped (once per module generation) to put
 * its return value into the call's `replay` slot, which the commit journals (engine.ts, onCommit).
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
