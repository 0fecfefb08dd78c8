/**
 * What a query read, and whether a commit's writes can change it.
 *
 * A query's reads are the documents it fetched by id and the index ranges it scanned, each
 * narrowed to the interval of index keys it actually consumed: a page reads from its start
 * cursor (exclusive) to its end cursor (inclusive); `take(n)` / `first()` / `unique()` read up
 * to the last document they returned. A write affects the query when the document's old or new
 * version lies in one of those intervals (or in a table read as a whole: search, count). This is
 * the shape of Convex's own read sets, so a re-run is never missed and rarely wasted.
 */
import { compareValues, jsonToConvex, type JSONValue, type Value } from "convex/values";

export type RangeExpression = {
  type: "Eq" | "Gt" | "Gte" | "Lt" | "Lte";
  fieldPath: string;
  value: JSONValue;
};

/** `SerializedQuery.source` as the `1.0/queryStream` / `1.0/queryPage` syscalls carry it. */
export type QuerySource =
  | { type: "FullTableScan"; tableName: string; order?: "asc" | "desc" | null }
  | { type: "IndexRange"; indexName: string; range: RangeExpression[]; order?: "asc" | "desc" | null }
  | { type: "Search"; indexName: string };

export type Document = Record<string, Value | undefined> & { _id: string };

/** One committed write: the document before and after (null = absent). */
export type DocumentChange = { id: string; table: string; before: Document | null; after: Document | null };

export function tableNameFromId(id: string): string | null {
  const match = /^[0-9]+/.exec(id);
  if (!match || match[0].length === id.length) return null;
  return id.slice(match[0].length);
}

export function sourceTable(source: QuerySource): string {
  return source.type === "FullTableScan"
    ? source.tableName
    : (source.indexName.split(".")[0] ?? source.indexName);
}

type Key = (Value | undefined)[];

/** The consumed part of a range, in index order: (after, upTo]. null bounds are open. */
type Interval = {
  /** Sort key fields (index fields, then _creationTime, _id), as paths. */
  fields: string[][];
  order: "asc" | "desc";
  after: Key | null;
  upTo: Key | null;
};

type CompiledRange = {
  exprs: { fieldPath: string[]; type: RangeExpression["type"]; value: Value | undefined }[];
  interval: Interval | null;
};

function decodeRangeValue(value: JSONValue): Value | undefined {
  if (value !== null && typeof value === "object" && !Array.isArray(value) && "$undefined" in value) {
    return undefined;
  }
  return jsonToConvex(value);
}

function fieldValue(doc: Document, path: readonly string[]): Value | undefined {
  let current: unknown = doc;
  for (const part of path) {
    if (current === null || typeof current !== "object" || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current as Value | undefined;
}

function compareKeys(a: Key, b: Key): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = compareValues(a[i], b[i]);
    if (c !== 0) return c;
  }
  return 0;
}

/** convex-test's cursor: a JSON array of (null = undefined | JSON text of a Convex value). */
export function parseCursor(cursor: string | null | undefined): Key | null {
  if (cursor === null || cursor === undefined || cursor === "_end_cursor") return null;
  try {
    const parts = JSON.parse(cursor) as unknown;
    if (!Array.isArray(parts)) return null;
    return parts.map((p) => (p === null ? undefined : jsonToConvex(JSON.parse(String(p)) as JSONValue)));
  } catch {
    return null;
  }
}

function inRange(doc: Document, range: CompiledRange): boolean {
  for (const expr of range.exprs) {
    const c = compareValues(fieldValue(doc, expr.fieldPath), expr.value);
    const ok =
      expr.type === "Eq"
        ? c === 0
        : expr.type === "Gt"
          ? c > 0
          : expr.type === "Gte"
            ? c >= 0
            : expr.type === "Lt"
              ? c < 0
              : c <= 0;
    if (!ok) return false;
  }
  const interval = range.interval;
  if (interval && (interval.after || interval.upTo)) {
    const key = interval.fields.map((f) => fieldValue(doc, f));
    const dir = interval.order === "asc" ? 1 : -1;
    if (interval.after && compareKeys(key, interval.after) * dir <= 0) return false;
    if (interval.upTo && compareKeys(key, interval.upTo) * dir > 0) return false;
  }
  return true;
}

/** Reading a stream (`collect`, `take`, `first`, `unique`, iteration): narrows as documents arrive. */
export class StreamRead {
  private returned = 0;
  private readonly range: CompiledRange;
  private readonly limit: number | null;

  constructor(range: CompiledRange, limit: number | null) {
    this.range = range;
    this.limit = limit;
  }

  /** After each `1.0/queryStreamNext`. */
  next(doc: Document | null, done: boolean): void {
    const interval = this.range.interval;
    if (!interval) return;
    if (doc) {
      this.returned++;
      interval.upTo = interval.fields.map((f) => fieldValue(doc, f));
    }
    // Exhausted before any limit: the query read the range to its end.
    if (done && (this.limit === null || this.returned < this.limit)) {
      interval.upTo = null;
      this.range.interval = null;
    }
  }
}

export class ReadSet {
  readonly ids = new Set<string>();
  /** Tables read as a whole (search, count, or a range whose extent is unknown). */
  readonly tables = new Set<string>();
  readonly ranges = new Map<string, CompiledRange[]>();
  /** Open streams of the current run, by convex-test query id. */
  readonly streams = new Map<number, StreamRead>();

  addId(id: string): void {
    this.ids.add(id);
  }

  addTable(table: string): void {
    this.tables.add(table);
  }

  /**
   * Records a scanned source. `sortFields` (the index key) enables narrowing to a consumed
   * interval; without it the whole range counts as read.
   */
  addSource(
    source: QuerySource,
    sortFields: string[] | null = null,
    bounds?: { after: Key | null; upTo: Key | null },
  ): CompiledRange | null {
    const table = sourceTable(source);
    if (source.type === "Search") {
      this.tables.add(table);
      return null;
    }
    const exprs =
      source.type === "IndexRange"
        ? source.range.map((e) => ({
            fieldPath: e.fieldPath.split("."),
            type: e.type,
            value: decodeRangeValue(e.value),
          }))
        : [];
    if (exprs.length === 0 && !sortFields) {
      this.tables.add(table);
      return null;
    }
    const interval: Interval | null = sortFields
      ? {
          fields: sortFields.map((f) => f.split(".")),
          order: source.order === "desc" ? "desc" : "asc",
          after: bounds?.after ?? null,
          upTo: bounds?.upTo ?? null,
        }
      : null;
    const compiled: CompiledRange = { exprs, interval };
    const list = this.ranges.get(table);
    if (list) list.push(compiled);
    else this.ranges.set(table, [compiled]);
    return compiled;
  }

  /** A stream over `source` was opened as `queryId`. */
  openStream(queryId: number, source: QuerySource, sortFields: string[] | null, limit: number | null): void {
    const range = this.addSource(source, sortFields);
    if (range) this.streams.set(queryId, new StreamRead(range, limit));
  }

  streamNext(queryId: number, doc: Document | null, done: boolean): void {
    this.streams.get(queryId)?.next(doc, done);
  }

  /** Whether any of the writes can change what was read. */
  affectedBy(changes: readonly DocumentChange[]): boolean {
    for (const change of changes) {
      if (this.ids.has(change.id) || this.tables.has(change.table)) return true;
      const ranges = this.ranges.get(change.table);
      if (!ranges) continue;
      for (const range of ranges) {
        if (change.before && inRange(change.before, range)) return true;
        if (change.after && inRange(change.after, range)) return true;
      }
    }
    return false;
  }
}
