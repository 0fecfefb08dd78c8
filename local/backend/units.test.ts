/** Unit checks of the backend's pieces that the end-to-end suites exercise only indirectly. */
import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { nextCronTime } from "./scheduler.ts";
import { Journal } from "./journal.ts";
import { canonicalizeUdfPath, decodeTs, encodeTs, normalizeRequestTarget } from "./protocol.ts";
import { convexToJson } from "convex/values";
import { parseCursor, ReadSet, type DocumentChange } from "./readset.ts";
import { tempDir } from "./test.backend.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe("journal", () => {
  test("replays commits, drops a torn last line, never reuses ids, and --reset wipes", () => {
    const dir = tempDir("journal");
    dirs.push(dir);
    const j = new Journal(dir);
    j.open(false);
    j.compact({ docs: new Map(), nextDocId: 10000, lastCreationTime: 0, lastCommitTs: 0n });
    j.append(5n, [
      [
        "000000000000000000000000010000posts",
        { _id: "000000000000000000000000010000posts", _creationTime: 1, title: "a" },
      ],
    ]);
    j.append(6n, [
      [
        "000000000000000000000000010001posts",
        { _id: "000000000000000000000000010001posts", _creationTime: 2, title: "b" },
      ],
    ]);
    j.append(7n, [["000000000000000000000000010001posts", null]]);
    j.sync();
    j.close();
    fs.appendFileSync(path.join(dir, "journal.log"), '{"ts":"8","w":[["0000'); // a crash mid-append

    const k = new Journal(dir);
    k.open(false);
    const state = k.load();
    expect([...state.docs.keys()]).toEqual(["000000000000000000000000010000posts"]);
    expect(state.nextDocId).toBe(10002); // the deleted document's id stays used
    expect(state.lastCommitTs).toBe(7n);
    expect(state.lastCreationTime).toBe(2);
    k.close();

    const r = new Journal(dir);
    r.open(true);
    expect(r.load().docs.size).toBe(0);
    r.close();
  });
});

describe("read sets", () => {
  const doc = (id: string, fields: Record<string, string>) => ({ _id: id, _creationTime: 1, ...fields });
  const change = (
    table: string,
    before: ReturnType<typeof doc> | null,
    after: ReturnType<typeof doc> | null,
  ): DocumentChange => ({
    id: (after ?? before)!._id,
    table,
    before,
    after,
  });

  test("index ranges match a write's old or new version; ids and whole tables match directly", () => {
    const reads = new ReadSet();
    reads.addSource({
      type: "IndexRange",
      indexName: "posts.by_author",
      range: [{ type: "Eq", fieldPath: "authorId", value: "alice" }],
    });
    reads.addId("1users");
    expect(reads.affectedBy([change("posts", null, doc("9posts", { authorId: "bob" }))])).toBe(false);
    expect(reads.affectedBy([change("posts", null, doc("9posts", { authorId: "alice" }))])).toBe(true);
    // Moving a post away from alice affects her range too (its old version was in it).
    expect(
      reads.affectedBy([
        change("posts", doc("9posts", { authorId: "alice" }), doc("9posts", { authorId: "bob" })),
      ]),
    ).toBe(true);
    expect(reads.affectedBy([change("users", null, doc("1users", {}))])).toBe(true);
    expect(reads.affectedBy([change("users", null, doc("2users", {}))])).toBe(false);
    reads.addSource({ type: "FullTableScan", tableName: "auditLog" });
    expect(reads.affectedBy([change("auditLog", null, doc("3auditLog", {}))])).toBe(true);
  });

  test("range bounds and nested field paths", () => {
    const reads = new ReadSet();
    reads.addSource({
      type: "IndexRange",
      indexName: "events.by_time",
      range: [
        { type: "Eq", fieldPath: "meta.kind", value: "x" },
        { type: "Gte", fieldPath: "at", value: 10 },
        { type: "Lt", fieldPath: "at", value: 20 },
      ],
    });
    const ev = (at: number, kind: string) => ({ _id: "5events", _creationTime: 1, at, meta: { kind } });
    expect(reads.affectedBy([{ id: "5events", table: "events", before: null, after: ev(15, "x") }])).toBe(
      true,
    );
    expect(reads.affectedBy([{ id: "5events", table: "events", before: null, after: ev(20, "x") }])).toBe(
      false,
    );
    expect(reads.affectedBy([{ id: "5events", table: "events", before: null, after: ev(15, "y") }])).toBe(
      false,
    );
  });
});

describe("read sets narrowed to what was consumed", () => {
  const post = (n: number, visibility = "public") => ({
    _id: `${10000 + n}posts`,
    _creationTime: n,
    visibility,
  });
  const insert = (d: ReturnType<typeof post>): DocumentChange => ({
    id: d._id,
    table: "posts",
    before: null,
    after: d,
  });
  const byVisibility = {
    type: "IndexRange" as const,
    indexName: "posts.by_visibility",
    range: [{ type: "Eq" as const, fieldPath: "visibility", value: "public" }],
    order: "desc" as const,
  };
  const fields = ["visibility", "_creationTime", "_id"];
  const cursor = (d: ReturnType<typeof post>) =>
    JSON.stringify([d.visibility, d._creationTime, d._id].map((v) => JSON.stringify(convexToJson(v))));

  test("a page reads (start cursor, end cursor] in index order", () => {
    // Page 2 of public posts, newest first: after post 8 down to post 5.
    const reads = new ReadSet();
    reads.addSource(byVisibility, fields, {
      after: parseCursor(cursor(post(8))),
      upTo: parseCursor(cursor(post(5))),
    });
    expect(reads.affectedBy([insert(post(6))])).toBe(true);
    expect(reads.affectedBy([insert(post(5))])).toBe(true);
    expect(reads.affectedBy([insert(post(9))])).toBe(false); // belongs to page 1
    expect(reads.affectedBy([insert(post(8))])).toBe(false); // the start is exclusive
    expect(reads.affectedBy([insert(post(4))])).toBe(false); // beyond the end cursor
    expect(reads.affectedBy([insert(post(6, "private"))])).toBe(false);
  });

  test("take(n) reads up to its last document unless the range ran out first", () => {
    const limited = new ReadSet();
    limited.openStream(1, byVisibility, fields, 2);
    limited.streamNext(1, post(9), false);
    limited.streamNext(1, post(7), false);
    limited.streamNext(1, null, true); // the limit, not the end of the range
    expect(limited.affectedBy([insert(post(8))])).toBe(true);
    expect(limited.affectedBy([insert(post(3))])).toBe(false);

    const exhausted = new ReadSet();
    exhausted.openStream(1, byVisibility, fields, 5);
    exhausted.streamNext(1, post(9), false);
    exhausted.streamNext(1, null, true);
    expect(exhausted.affectedBy([insert(post(3))])).toBe(true);
  });
});

describe("protocol helpers", () => {
  test("u64 timestamps as the client encodes them", () => {
    expect(encodeTs(0n)).toBe("AAAAAAAAAAA=");
    expect(encodeTs(1n)).toBe("AQAAAAAAAAA=");
    expect(encodeTs(1718000000000000000n)).toBe("AAAfzOWP1xc=");
    expect(decodeTs("AAAfzOWP1xc=")).toBe(1718000000000000000n);
  });

  test("function paths and request targets", () => {
    expect(canonicalizeUdfPath("posts")).toBe("posts:default");
    expect(canonicalizeUdfPath("posts.js:create")).toBe("posts:create");
    expect(canonicalizeUdfPath("lib/x:y")).toBe("lib/x:y");
    expect(normalizeRequestTarget("//api//1.48.0/sync?a=//b")).toBe("/api/1.48.0/sync?a=//b");
  });

  test("cron schedules", () => {
    const now = Date.UTC(2026, 10, 26, 13, 0, 0);
    expect(nextCronTime({ type: "daily", hourUTC: 4, minuteUTC: 0 }, now)).toBe(Date.UTC(2026, 10, 27, 4, 0));
    expect(nextCronTime({ type: "hourly", minuteUTC: 30 }, now)).toBe(Date.UTC(2026, 10, 26, 13, 30));
    expect(nextCronTime({ type: "interval", minutes: 5 }, now)).toBe(now + 300_000);
    expect(nextCronTime({ type: "weekly", dayOfWeek: "monday", hourUTC: 9 }, now)).toBe(
      Date.UTC(2026, 10, 30, 9, 0),
    );
    expect(nextCronTime({ type: "cron", cron: "* * * * *" }, now)).toBeNull();
  });
});
