/**
 * What a subscription query reads, recorded from the syscalls its function makes into
 * convex-test (`1.0/get`, `1.0/queryStream`, `1.0/queryStreamNext`, `1.0/queryPage`,
 * `1.0/count`), so a commit re-runs exactly the queries whose reads it touches (readset.ts).
 * Only calls with a `reads` set in their call context are tracked: subscription queries, not
 * mutations, actions or one-off HTTP queries.
 */
import { jsonToConvex, type JSONValue } from "convex/values";
import type { Engine } from "./convexTestAdapter.ts";
import { callStore, type CallContext } from "./context.ts";
import { parseCursor, type Document, type QuerySource, type ReadSet } from "./readset.ts";

type SerializedQuery = { source: QuerySource; operators: ({ limit: number } | { filter: unknown })[] };

function limitOf(query: SerializedQuery): number | null {
  for (const op of query.operators) if ("limit" in op) return op.limit;
  return null;
}

type JournalIn = { endCursor: string } | null;

/**
 * A subscription's pagination journal as the client sends it back (the `journal` of its last
 * result): the end cursor its page must keep, or null.
 */
export function parseJournal(journal: string | null | undefined): JournalIn {
  if (!journal) return null;
  try {
    const parsed = JSON.parse(journal) as { endCursor?: unknown };
    return typeof parsed.endCursor === "string" ? { endCursor: parsed.endCursor } : null;
  } catch {
    return null;
  }
}

/** Wraps the engine's syscalls so each one records its read into the calling query's read set. */
export function trackReads(engine: Engine): void {
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
        return trackedPage(engine, ctx, reads, json, asyncSyscall);
      default:
        return asyncSyscall(op, json);
    }
  };
}

/**
 * A page read by a subscription: records the interval it consumed, and ends it at the journal's
 * cursor, so a re-run's page keeps its end however many documents were inserted into or deleted
 * from it meanwhile, and neighbouring pages neither overlap nor leave a gap. Convex keeps a paginated query's end cursor in its query journal for the same
 * reason (https://github.com/get-convex/convex-backend/blob/main/crates/common/src/query_journal.rs).
 */
async function trackedPage(
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
