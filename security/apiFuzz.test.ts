/**
 * Every public function's arguments fuzzed with fast-check (control characters, multi-MB strings,
 * wrong types, extra fields, foreign, guessed and malformed ids, NaN/±Infinity/-0, bigints, bytes,
 * nested objects), called as a real pro user and a real free user over the real clients
 * (ConvexClient over the WebSocket, ConvexHttpClient over HTTP).
 *
 * How outcomes are classified (helpers.ts `classify`):
 * - a ConvexError whose `code` is in convex/lib/errors.ts ErrorCode: the app refused, typed;
 * - `VALIDATION`: Convex's argument validators refused before any handler ran. The local backend
 *   reports convex-test's wording ("Validator error: …"), Convex says "ArgumentValidationError";
 *   both count. Each generated argument object also carries whether it satisfies the function's
 *   validators, and the verdict must agree both ways: a call with type-valid arguments is never a
 *   VALIDATION failure (that would be a returns-validator failure, i.e. a server bug), and a call
 *   with type-invalid arguments is always one (validators run before authorization and handlers);
 * - anything else (an untyped `Uncaught TypeError`, `Could not find public function`) fails.
 * Every refused call must have committed nothing. After the run, every stored post and user is
 * checked against the schema's rules and the product's limits.
 */
import type { ConvexClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { convexToJson, type JSONValue, type Value } from "convex/values";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Backend } from "../local/backend/server.ts";
import { idpClient } from "../local/idp/client.ts";
import type { TestIdp } from "../local/idp/test.idp.ts";
import {
  ERROR_CODES,
  httpClientWithToken,
  newClient,
  outcomeOf,
  readTables,
  SEEDED,
  signIn,
  startSecurityStack,
  Tally,
  type Outcome,
  type SignedIn,
  type TestStack,
} from "./helpers.ts";

const tally = new Tally("apiFuzz");

/** Title and body rules (convex/lib/permissions.ts, convex/lib/validators.ts). */
const TITLE_MAX = 120;
const BODY_MAX = 10_000;
const FREE_POST_QUOTA = 10;

type Who = "pro" | "free";
type Kind = "query" | "mutation" | "action";

let stack: TestStack;
let idp: TestIdp;
let backend: Backend;
let sessions: Record<Who | "admin", SignedIn>;
const wsClients = new Map<Who, ConvexClient>();
const ids = {
  proPrivate: "",
  proPublic: "",
  freePrivate: "",
  adminPrivate: "",
  deleted: "",
};
const untypedSeen: string[] = [];
/** Outcomes per function, for the closing note. */
const histogram = new Map<string, Map<string, number>>();

beforeAll(async () => {
  stack = await startSecurityStack();
  ({ idp, backend } = stack);
  sessions = {
    pro: await signIn(idp, SEEDED.pro),
    free: await signIn(idp, SEEDED.free),
    admin: await signIn(idp, SEEDED.admin),
  };
  const as = (who: Who | "admin") => httpClientWithToken(backend.url, sessions[who].token);
  const create = makeFunctionReference<"mutation", Record<string, unknown>, string>("posts:create");
  const remove = makeFunctionReference<"mutation", Record<string, unknown>, null>("posts:remove");
  await ensureFixturePosts();
  ids.deleted = await as("pro").mutation(create, { title: "gone", body: "" });
  await as("pro").mutation(remove, { id: ids.deleted });
  for (const who of ["pro", "free"] as const) {
    const client = newClient(backend.url);
    const ok = await new Promise<boolean>((resolve) =>
      client.setAuth(
        () => idpClient(idp.url, { secretKey: idp.secretKey }).token(sessions[who].sessionId),
        resolve,
      ),
    );
    expect(ok).toBe(true);
    wsClients.set(who, client);
  }
}, 60_000);

afterAll(async () => {
  await Promise.all([...wsClients.values()].map((c) => c.close()));
  await stack?.dispose();
  if (untypedSeen.length) tally.record(`untyped outcomes: ${untypedSeen.slice(0, 5).join(" | ")}`);
  for (const [name, h] of histogram) {
    const parts = [...h].sort((a, b) => b[1] - a[1]).map(([o, n]) => `${o} ${n}`);
    process.stdout.write(`  apiFuzz ${name}: ${parts.join(", ")}\n`);
  }
  tally.print();
});

// ---------- arbitraries ----------

/** A generated value and whether it satisfies the Convex validator it is aimed at. */
type G = { value: unknown; ok: boolean };
const good = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<G> => arb.map((value) => ({ value, ok: true }));
const bad = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<G> => arb.map((value) => ({ value, ok: false }));

const MB = 1024 * 1024;
/** Built once: fast-check would otherwise spend the budget generating (and shrinking) megabytes. */
const HUGE = [
  "t".repeat(TITLE_MAX + 1),
  "😀".repeat(TITLE_MAX + 1),
  "\u200B".repeat(500) + "x",
  "b".repeat(BODY_MAX + 1),
  "é".repeat(BODY_MAX),
  "x".repeat(MB),
  "\u0000".repeat(2 * MB),
  "z".repeat(3 * MB),
];

const stringArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 3, arbitrary: fc.string({ unit: "binary", maxLength: 60 }) },
  {
    weight: 2,
    arbitrary: fc
      .array(fc.integer({ min: 0, max: 0x1f }), { maxLength: 20 })
      .map((codes) => String.fromCharCode(...codes)),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom("", " ", "\t\n", "\u200B\u200C\u200D\uFEFF", "\u2060 ", "\uD800", "\uDFFF x"),
  },
  { weight: 1, arbitrary: fc.constantFrom(...HUGE) },
);

const numberArb: fc.Arbitrary<number> = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(Number.NaN, Infinity, -Infinity, -0, 1e308, Number.MAX_SAFE_INTEGER + 2, 0.5, -1),
  // Always an hour or more ahead, so no scheduled publish fires (and commits) during the run.
  fc.integer({ min: 1, max: 400 }).map((days) => Date.now() + days * 86_400_000),
  fc.constant(Date.now() + 3_600_000),
);

/**
 * Whether the Convex client can encode `v` at all: it refuses some values itself (field names
 * starting with "$", non-ASCII field names) before anything is sent, so those never reach the
 * server and are not server outcomes. The transport suite sends such bytes over raw sockets.
 */
function clientEncodable(v: unknown): boolean {
  try {
    convexToJson(v as Value);
    return true;
  } catch {
    return false;
  }
}

/** Values of every other Convex type (and nested objects), for "wrong type" fields. */
const anyValueRaw: fc.Arbitrary<unknown> = fc.oneof(
  stringArb,
  numberArb,
  fc.boolean(),
  fc.constant(null),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.uint8Array({ maxLength: 16 }).map((b) => b.buffer as ArrayBuffer),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }),
  fc.dictionary(
    fc.string({ maxLength: 8 }).filter((k) => /^[a-zA-Z]/.test(k)),
    fc.jsonValue({ maxDepth: 4 }),
    {
      maxKeys: 4,
    },
  ),
);
const anyValue = anyValueRaw.filter(clientEncodable);
const typeOf = (v: unknown) =>
  v === null
    ? "null"
    : typeof v === "bigint"
      ? "bigint"
      : v instanceof ArrayBuffer
        ? "bytes"
        : Array.isArray(v)
          ? "array"
          : typeof v;
const wrong = (type: string) => bad(anyValue.filter((v) => typeOf(v) !== type));

const str: fc.Arbitrary<G> = fc.oneof(
  { weight: 5, arbitrary: good(stringArb) },
  { weight: 1, arbitrary: wrong("string") },
);
const num: fc.Arbitrary<G> = fc.oneof(
  { weight: 5, arbitrary: good(numberArb) },
  { weight: 1, arbitrary: wrong("number") },
);

/** Post ids: own, foreign private, foreign public, deleted, guessed (all type-valid); malformed ones (not). */
const postId: fc.Arbitrary<G> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .constantFrom("proPrivate", "proPublic", "freePrivate", "adminPrivate", "deleted", "guessed")
      .map((k) => ({ value: k === "guessed" ? "987654321posts" : ids[k as keyof typeof ids], ok: true })),
  },
  {
    weight: 2,
    arbitrary: bad(
      fc.constantFrom(
        "",
        "abc",
        "posts",
        "10001users",
        "10001auditLog",
        "k".repeat(10_000),
        "../posts",
        "10001 posts",
        "-1posts",
      ),
    ),
  },
  { weight: 1, arbitrary: wrong("string") },
);
const visibility: fc.Arbitrary<G> = fc.oneof(
  { weight: 4, arbitrary: good(fc.constantFrom("private", "public")) },
  { weight: 1, arbitrary: bad(fc.constantFrom("unlisted", "PUBLIC", "", " public", "admin")) },
  { weight: 1, arbitrary: wrong("string") },
);
const roleArb: fc.Arbitrary<G> = fc.oneof(
  good(fc.constantFrom("user", "admin")),
  bad(fc.constantFrom("superadmin", "Admin", "")),
  wrong("string"),
);
/** admin.setPlan's plan: a plan, or null to lift an administrator's override (ADR 009). */
const planOrNullArb: fc.Arbitrary<G> = fc.oneof(
  good(fc.constantFrom("free_user", "pro", null)),
  bad(fc.constantFrom("enterprise", "PRO", "")),
  bad(anyValue.filter((v) => typeOf(v) !== "string" && v !== null)),
);
const clerkId: fc.Arbitrary<G> = fc.oneof(
  good(fc.constantFrom("SELF_PRO", "SELF_FREE", "ADMIN", "user_missing", "")),
  str,
);

type FieldSpec = { gen: fc.Arbitrary<G>; optional?: boolean };
const EXTRA_FIELDS = [
  "authorId",
  "role",
  "plan",
  "_id",
  "_creationTime",
  "userId",
  "deletedAt",
  "isAdmin",
  "__proto__x",
];

/** An argument object: each field valid or not, optional ones sometimes absent, sometimes a required one missing, sometimes an extra field. */
function obj(fields: Record<string, FieldSpec>): fc.Arbitrary<G> {
  const entries = Object.entries(fields);
  return fc
    .record({
      parts: fc.tuple(
        ...entries.map(([, spec]) =>
          fc.oneof(
            { weight: 8, arbitrary: spec.gen },
            // absent: fine when optional, a validation failure when required
            { weight: 1, arbitrary: fc.constant({ value: undefined, ok: spec.optional === true }) },
          ),
        ),
      ),
      // An extra field about one time in seven.
      // Only names the function does not declare: a declared one would be a value, not an extra field.
      extra: fc.oneof(
        { weight: 6, arbitrary: fc.constant(null) },
        {
          weight: 1,
          arbitrary: fc.tuple(fc.constantFrom(...EXTRA_FIELDS.filter((f) => !(f in fields))), anyValue),
        },
      ),
    })
    .map(({ parts, extra }) => {
      const value: Record<string, unknown> = {};
      let ok = true;
      parts.forEach((part, i) => {
        ok &&= part.ok;
        if (part.value !== undefined) value[entries[i]![0]] = part.value;
      });
      if (extra) {
        value[extra[0]] = extra[1];
        ok = false;
      }
      return { value, ok };
    });
}

const paginationOpts = obj({
  numItems: {
    gen: fc.oneof(
      { weight: 3, arbitrary: good(fc.integer({ min: -5, max: 150 })) },
      { weight: 2, arbitrary: num },
    ),
  },
  cursor: {
    gen: fc.oneof(
      good(fc.constant(null)),
      good(fc.constantFrom("", "abc", "[]", '{"k":1}', "10001posts", "\u0000", "x".repeat(10_000))),
      good(fc.string({ maxLength: 30 })),
      wrong("string").filter((g) => g.value !== null),
    ),
  },
  endCursor: {
    gen: fc.oneof(
      good(fc.constant(null)),
      good(stringArb),
      wrong("string").filter((g) => g.value !== null),
    ),
    optional: true,
  },
  id: { gen: num, optional: true },
  maximumRowsRead: { gen: num, optional: true },
  maximumBytesRead: { gen: num, optional: true },
});

type Target = { kind: Kind; args: fc.Arbitrary<G>; adminOnly?: boolean };

const TARGETS: Record<string, Target> = {
  "users:me": { kind: "query", args: obj({}) },
  "users:ensure": { kind: "mutation", args: obj({}) },
  "posts:create": {
    kind: "mutation",
    args: obj({ title: { gen: str }, body: { gen: str }, visibility: { gen: visibility, optional: true } }),
  },
  "posts:update": {
    kind: "mutation",
    args: obj({
      id: { gen: postId },
      title: { gen: str, optional: true },
      body: { gen: str, optional: true },
      visibility: { gen: visibility, optional: true },
    }),
  },
  "posts:remove": { kind: "mutation", args: obj({ id: { gen: postId } }) },
  "posts:get": { kind: "query", args: obj({ id: { gen: postId } }) },
  "posts:listMine": { kind: "query", args: obj({ paginationOpts: { gen: paginationOpts } }) },
  "posts:listPublic": { kind: "query", args: obj({ paginationOpts: { gen: paginationOpts } }) },
  "posts:schedulePublish": { kind: "mutation", args: obj({ id: { gen: postId }, publishAt: { gen: num } }) },
  "insights:overview": { kind: "query", args: obj({}) },
  "admin:listUsers": {
    kind: "query",
    args: obj({ paginationOpts: { gen: paginationOpts } }),
    adminOnly: true,
  },
  "admin:auditLog": {
    kind: "query",
    args: obj({ paginationOpts: { gen: paginationOpts } }),
    adminOnly: true,
  },
  "admin:setRole": {
    kind: "action",
    args: obj({ clerkId: { gen: clerkId }, role: { gen: roleArb } }),
    adminOnly: true,
  },
  "admin:setPlan": {
    kind: "action",
    args: obj({ clerkId: { gen: clerkId }, plan: { gen: planOrNullArb } }),
    adminOnly: true,
  },
  "admin:reconcileUsers": { kind: "action", args: obj({}), adminOnly: true },
};

/** Runs per function and caller (both callers, both transports, are drawn per run). */
const RUNS = 400;

function resolveIds(value: unknown): unknown {
  if (value === "SELF_PRO") return sessions.pro.userId;
  if (value === "SELF_FREE") return sessions.free.userId;
  if (value === "ADMIN") return sessions.admin.userId;
  return value;
}

async function call(
  who: Who,
  transport: "ws" | "http",
  name: string,
  kind: Kind,
  args: Record<string, unknown>,
) {
  const fn = makeFunctionReference<Kind, Record<string, unknown>, unknown>(name);
  if (transport === "ws") {
    const client = wsClients.get(who)!;
    return kind === "query"
      ? client.query(fn as never, args as never)
      : kind === "mutation"
        ? client.mutation(fn as never, args as never)
        : client.action(fn as never, args as never);
  }
  const token = await idpClient(idp.url, { secretKey: idp.secretKey }).token(sessions[who].sessionId);
  const client = httpClientWithToken(backend.url, token);
  return kind === "query"
    ? client.query(fn as never, args as never)
    : kind === "mutation"
      ? client.mutation(fn as never, args as never)
      : client.action(fn as never, args as never);
}

/** The posts every run draws ids from: (re)created as their authors if a previous run removed them. */
const FIXTURE_POSTS = {
  proPrivate: { who: "pro", post: { title: "pro private", body: "a b" } },
  proPublic: { who: "pro", post: { title: "pro public", body: "a b", visibility: "public" } },
  freePrivate: { who: "free", post: { title: "free private", body: "c" } },
  adminPrivate: { who: "admin", post: { title: "admin private", body: "d" } },
} as const;

async function ensureFixturePosts() {
  const as = (who: Who | "admin") => httpClientWithToken(backend.url, sessions[who].token);
  const get = makeFunctionReference<"query", { id: string }, unknown>("posts:get");
  const create = makeFunctionReference<"mutation", Record<string, unknown>, string>("posts:create");
  for (const [key, { who, post }] of Object.entries(FIXTURE_POSTS)) {
    const id = ids[key as keyof typeof FIXTURE_POSTS];
    if (
      id &&
      (await as("admin")
        .query(get, { id })
        .then(
          () => true,
          () => false,
        ))
    )
      continue;
    // The fuzzing may have spent the author's write budget (1 token/s): wait for it.
    for (let attempt = 0; ; attempt++) {
      try {
        ids[key as keyof typeof FIXTURE_POSTS] = await as(who).mutation(create, { ...post });
        break;
      } catch (error) {
        if (attempt >= 30 || !String(error).includes("RATE_LIMITED")) throw error;
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  }
}

const describeArgs = (args: Record<string, unknown>) =>
  JSON.stringify(args, (_k, v: unknown) =>
    typeof v === "string" && v.length > 60
      ? `<${v.length} chars>`
      : typeof v === "bigint"
        ? `${v}n`
        : typeof v === "number" && !Number.isFinite(v)
          ? String(v)
          : v,
  );

describe("every public function, fuzzed as a pro and a free user", () => {
  test.each(Object.entries(TARGETS))("%s", async (name, target) => {
    // An earlier function's run may have deleted the shared posts (posts:remove as their author):
    // each function is fuzzed against all of them, not against what the previous run left.
    await ensureFixturePosts();
    await fc.assert(
      fc.asyncProperty(
        target.args,
        fc.constantFrom<Who>("pro", "free"),
        fc.constantFrom<"ws" | "http">("ws", "http"),
        async (generated, who, transport) => {
          const args = Object.fromEntries(
            Object.entries(generated.value as Record<string, unknown>).map(([k, v]) => [k, resolveIds(v)]),
          );
          const commitsBefore = backend.stats().commits;
          const { outcome, value, error } = await outcomeOf(call(who, transport, name, target.kind, args));
          const label = `${name} as ${who} over ${transport} with ${describeArgs(args).slice(0, 300)} → ${outcome}: ${String((error as Error | undefined)?.message).slice(0, 300)}`;
          if (outcome === "UNTYPED" || outcome === "NOT_PUBLIC") untypedSeen.push(label);
          const h = histogram.get(name) ?? new Map<string, number>();
          h.set(outcome, (h.get(outcome) ?? 0) + 1);
          histogram.set(name, h);
          const typed: Outcome[] = ["ok", "VALIDATION", ...ERROR_CODES];
          expect(typed, label).toContain(outcome);
          // The validators' verdict agrees with the model, both ways.
          expect(outcome === "VALIDATION", label).toBe(!generated.ok);
          if (target.adminOnly) expect(outcome, label).not.toBe("ok");
          if (outcome === "ok") {
            checkResult(name, who, value, args);
            tally.accept();
          } else {
            expect(backend.stats().commits, `${label}: a refused call committed`).toBe(commitsBefore);
            tally.reject();
          }
        },
      ),
      { numRuns: RUNS, seed: 20_261_130 + name.length, endOnFailure: true },
    );
    // The run must have reached the function itself, not only Convex's validators: an allowed
    // call for users' functions, a refusal by role for admins' (called here as pro and free).
    const h = histogram.get(name)!;
    const summary = JSON.stringify(Object.fromEntries(h));
    expect(RUNS - (h.get("VALIDATION") ?? 0), `${name}: ${summary}`).toBeGreaterThanOrEqual(RUNS / 20);
    if (target.adminOnly) expect(h.get("FORBIDDEN") ?? 0, `${name}: ${summary}`).toBeGreaterThan(0);
    else expect(h.get("ok") ?? 0, `${name}: ${summary}`).toBeGreaterThan(0);
  });
});

describe("forged pagination cursors (what the fuzzer found, pinned)", () => {
  test.each([
    ["posts:listMine", "pro"],
    ["posts:listPublic", "free"],
    ["admin:listUsers", "admin"],
    ["admin:auditLog", "admin"],
  ] as const)(
    "%s: a forged endCursor is INVALID_INPUT like a forged cursor, never an untyped error",
    async (name, who) => {
      const client = httpClientWithToken(
        backend.url,
        await idpClient(idp.url, { secretKey: idp.secretKey }).token(sessions[who].sessionId),
      );
      const fn = makeFunctionReference<"query", Record<string, unknown>, unknown>(name);
      const commits = backend.stats().commits;
      const forgedCursor = await outcomeOf(
        client.query(fn, { paginationOpts: { numItems: 5, cursor: "}:T<&rW$q" } }),
      );
      expect(forgedCursor.outcome).toBe("INVALID_INPUT");
      tally.reject();
      const forgedEnd = await outcomeOf(
        client.query(fn, { paginationOpts: { numItems: 5, cursor: null, endCursor: "}:T<&rW$q" } }),
      );
      expect(forgedEnd.outcome, String((forgedEnd.error as Error | undefined)?.message)).toBe(
        "INVALID_INPUT",
      );
      expect(backend.stats().commits).toBe(commits);
      tally.reject();
    },
  );
});

/** What an allowed call may return. */
function checkResult(name: string, who: Who, value: unknown, args: Record<string, unknown>): void {
  const me = sessions[who].userId;
  switch (name) {
    case "posts:create":
      expect(value).toMatch(/posts$/);
      break;
    case "posts:get": {
      const post = value as { authorId: string; visibility: string };
      expect(post.authorId === me || post.visibility === "public").toBe(true);
      expect(Object.keys(post)).not.toContain("publishJobId");
      break;
    }
    case "posts:listMine":
      expect((value as { page: { authorId: string }[] }).page.every((p) => p.authorId === me)).toBe(true);
      break;
    case "posts:listPublic":
      expect((value as { page: { visibility: string }[] }).page.every((p) => p.visibility === "public")).toBe(
        true,
      );
      break;
    case "users:me":
    case "users:ensure":
      expect(value).toMatchObject({ clerkId: me, role: "user", plan: who === "pro" ? "pro" : "free_user" });
      break;
    case "insights:overview":
      expect(who).toBe("pro");
      break;
    case "posts:update":
    case "posts:remove":
    case "posts:schedulePublish": {
      // Only the author may change a post (neither caller is an admin); the pools hold others' ids too.
      const owner =
        args["id"] === ids.proPrivate || args["id"] === ids.proPublic
          ? "pro"
          : args["id"] === ids.freePrivate
            ? "free"
            : "nobody";
      expect(owner).toBe(who);
      break;
    }
  }
}

// ---------- what is stored ----------

const INVISIBLE = /[\u200B-\u200D\u2060\uFEFF]/gu;
function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}
const finite = (v: JSONValue | undefined) => typeof v === "number" && Number.isFinite(v);

describe("after the run: every stored document obeys the schema and the product rules", () => {
  test("posts, users, statistics and rate limits", () => {
    const tables = readTables(backend);
    const users = tables["users"] ?? [];
    const posts = tables["posts"] ?? [];
    const userIds = new Set(users.map((u) => u["clerkId"]));
    const problems: string[] = [];
    const POST_FIELDS = new Set([
      "_id",
      "_creationTime",
      "authorId",
      "title",
      "body",
      "visibility",
      "publishAt",
      "publishJobId",
      "updatedAt",
    ]);
    for (const p of posts) {
      const id = String(p["_id"]);
      const title = p["title"];
      const body = p["body"];
      if (typeof title !== "string") problems.push(`${id}: title not a string`);
      else {
        const shown = title.replace(INVISIBLE, "").trim();
        if (shown.length === 0) problems.push(`${id}: blank title ${JSON.stringify(title)}`);
        if (codePoints(shown) > TITLE_MAX) problems.push(`${id}: title over ${TITLE_MAX} code points`);
        if (title !== title.trim()) problems.push(`${id}: title stored untrimmed`);
      }
      if (typeof body !== "string") problems.push(`${id}: body not a string`);
      else if (codePoints(body) > BODY_MAX) problems.push(`${id}: body over ${BODY_MAX} code points`);
      if (p["visibility"] !== "private" && p["visibility"] !== "public")
        problems.push(`${id}: visibility ${String(p["visibility"])}`);
      if (!userIds.has(p["authorId"] ?? ""))
        problems.push(`${id}: author ${String(p["authorId"])} has no users row`);
      if (!finite(p["updatedAt"])) problems.push(`${id}: updatedAt ${JSON.stringify(p["updatedAt"])}`);
      if (
        p["publishAt"] !== undefined &&
        !(
          finite(p["publishAt"]) &&
          Number.isInteger(p["publishAt"]) &&
          (p["publishAt"] as number) > Date.now()
        )
      )
        problems.push(`${id}: publishAt ${JSON.stringify(p["publishAt"])}`);
      for (const key of Object.keys(p))
        if (!POST_FIELDS.has(key)) problems.push(`${id}: unexpected field ${key}`);
    }
    const USER_FIELDS = new Set([
      "_id",
      "_creationTime",
      "clerkId",
      "email",
      "name",
      "imageUrl",
      "role",
      "plan",
      "clerkUpdatedAt",
      "synced",
      "deletedAt",
      "planOverride",
      "metadataPlan",
    ]);
    for (const u of users) {
      const id = String(u["clerkId"]);
      if (u["role"] !== "user" && u["role"] !== "admin") problems.push(`${id}: role ${String(u["role"])}`);
      if (u["plan"] !== "free_user" && u["plan"] !== "pro") problems.push(`${id}: plan ${String(u["plan"])}`);
      for (const f of ["planOverride", "metadataPlan"])
        if (u[f] !== undefined && u[f] !== "free_user" && u[f] !== "pro")
          problems.push(`${id}: ${f} ${String(u[f])}`);
      for (const f of ["email", "name", "imageUrl"])
        if (typeof u[f] !== "string") problems.push(`${id}: ${f}`);
      if (!finite(u["clerkUpdatedAt"])) problems.push(`${id}: clerkUpdatedAt`);
      if (typeof u["synced"] !== "boolean") problems.push(`${id}: synced`);
      for (const key of Object.keys(u))
        if (!USER_FIELDS.has(key)) problems.push(`${id}: unexpected field ${key}`);
    }
    // Nobody fuzzed their way to more privileges or past the free quota.
    const byId = new Map(users.map((u) => [u["clerkId"], u]));
    expect(byId.get(sessions.pro.userId)).toMatchObject({ role: "user", plan: "pro" });
    expect(byId.get(sessions.free.userId)).toMatchObject({ role: "user", plan: "free_user" });
    expect(posts.filter((p) => p["authorId"] === sessions.free.userId).length).toBeLessThanOrEqual(
      FREE_POST_QUOTA,
    );
    // Others' posts were not changed by the fuzzing users.
    const adminPost = posts.find((p) => p["_id"] === ids.adminPrivate);
    expect(adminPost).toMatchObject({ title: "admin private", body: "d", visibility: "private" });
    // The maintained statistics still match the posts (lib/postStats.ts).
    for (const s of tables["authorStats"] ?? []) {
      const own = posts.filter((p) => p["authorId"] === s["authorId"]);
      if (s["total"] !== own.length)
        problems.push(`stats ${String(s["authorId"])}: total ${String(s["total"])} vs ${own.length}`);
      const pub = own.filter((p) => p["visibility"] === "public").length;
      if (s["public"] !== pub)
        problems.push(`stats ${String(s["authorId"])}: public ${String(s["public"])} vs ${pub}`);
    }
    for (const r of tables["rateLimits"] ?? [])
      if (!finite(r["tokens"])) problems.push(`rateLimits ${String(r["key"])}`);
    expect(problems).toEqual([]);
    expect(posts.length).toBeGreaterThan(0);
    tally.hold();
  });
});
