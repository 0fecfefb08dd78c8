/**
 * svix webhook attacks W1–W24 (docs/security.md) over real HTTP against the running
 * backend's `POST /clerk-users-webhook` on its site port. Every signature is made by the real
 * `svix` library with the secret the IdP and the backend share (or deliberately another one).
 * Each refusal asserts the status and body and that every table is exactly as before; the
 * positive cases assert the single effect they are allowed.
 */
import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import type { JSONValue } from "convex/values";
import { Webhook } from "svix";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import type { Backend } from "../local/backend/server.ts";
import type { TestIdp } from "../local/idp/test.idp.ts";
import {
  clientWithToken,
  dbState,
  expectUnchanged,
  outcomeOf,
  SEEDED,
  signIn,
  startSecurityStack,
  Tally,
  usersRows,
  type TestStack,
} from "./helpers.ts";

const tally = new Tally("webhooks");

let stack: TestStack;
let idp: TestIdp;
let backend: Backend;
let secret: string;
let url: string;

beforeAll(async () => {
  stack = await startSecurityStack();
  ({ idp, backend } = stack);
  secret = idp.webhookSecret;
  url = `${backend.siteUrl}/clerk-users-webhook`;
});

afterAll(async () => {
  await stack?.dispose();
  tally.print();
});

// ---------- Clerk-shaped events ----------

let seq = 0;
const newId = (prefix = "user_wh") => `${prefix}_${Date.now().toString(36)}_${++seq}`;
const newSvixId = () => `msg_sec_${Date.now().toString(36)}_${++seq}`;

function clerkUser(id: string, opts: { updatedAt?: number; publicMetadata?: Record<string, unknown> } = {}) {
  const updatedAt = opts.updatedAt ?? Date.now();
  return {
    object: "user",
    id,
    first_name: "Web",
    last_name: "Hook",
    image_url: "http://127.0.0.1/avatar.svg",
    primary_email_address_id: `idn_${id}`,
    email_addresses: [{ object: "email_address", id: `idn_${id}`, email_address: `${id}@security.test` }],
    public_metadata: opts.publicMetadata ?? {},
    private_metadata: {},
    unsafe_metadata: { role: "admin", plan: "pro" },
    created_at: updatedAt - 1000,
    updated_at: updatedAt,
  };
}

function userEvent(
  type: "user.created" | "user.updated",
  id: string,
  opts: { updatedAt?: number; publicMetadata?: Record<string, unknown> } = {},
) {
  return { data: clerkUser(id, opts), object: "event", type, timestamp: Date.now(), instance_id: "ins_sec" };
}

function deletedEvent(id: string) {
  return {
    data: { object: "user", id, deleted: true },
    object: "event",
    type: "user.deleted",
    timestamp: Date.now(),
    instance_id: "ins_sec",
  };
}

type Headers = Record<string, string>;

function signed(body: string, opts: { secret?: string; svixId?: string; at?: Date } = {}): Headers {
  const svixId = opts.svixId ?? newSvixId();
  const at = opts.at ?? new Date();
  return {
    "svix-id": svixId,
    "svix-timestamp": String(Math.floor(at.getTime() / 1000)),
    "svix-signature": new Webhook(opts.secret ?? secret).sign(svixId, at, body),
    "content-type": "application/json",
  };
}

type Answer = { status: number; body: unknown; text: string };

async function post(
  body: string | Uint8Array,
  headers: Headers,
  opts: { method?: string; path?: string } = {},
): Promise<Answer> {
  const res = await fetch(opts.path ? `${backend.siteUrl}${opts.path}` : url, {
    method: opts.method ?? "POST",
    headers,
    ...(opts.method === "GET" || opts.method === "HEAD" ? {} : { body: body as BodyInit }),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed, text };
}

/** Sends; expects `status` (and `body` when given); every table unchanged. */
async function expectRefusal(
  label: string,
  send: () => Promise<Answer>,
  status: number,
  body?: unknown,
): Promise<Answer> {
  await idp.whenDelivered(10_000);
  const before = dbState(backend);
  const answer = await send();
  expect(answer.status, `${label}: ${answer.text.slice(0, 200)}`).toBe(status);
  if (body !== undefined) expect(answer.body, label).toEqual(body);
  expect(answer.text).not.toMatch(/\n\s+at /);
  expectUnchanged(backend, before, tally, label);
  tally.reject();
  return answer;
}

const INVALID = { error: "invalid signature" };
const MISSING = { error: "missing svix headers" };
const MALFORMED = { error: "malformed event" };

function row(clerkId: string): Record<string, JSONValue> | undefined {
  return usersRows(backend).find((u) => u["clerkId"] === clerkId);
}

function count(table: string): number {
  return (dbState(backend).tables[table] ?? []).length;
}

// ---------- positive control ----------

test("positive control: a correctly signed user.created is applied once", async () => {
  const id = newId();
  const body = JSON.stringify(userEvent("user.created", id));
  const answer = await post(body, signed(body));
  expect(answer).toMatchObject({ status: 200, body: { outcome: "applied" } });
  expect(row(id)).toMatchObject({ clerkId: id, role: "user", plan: "free_user", synced: true });
  tally.accept();
});

describe("W1 missing headers", () => {
  test.each(["svix-id", "svix-timestamp", "svix-signature"])("without %s → 400", async (name) => {
    const body = JSON.stringify(userEvent("user.created", newId()));
    const headers = signed(body);
    delete headers[name];
    await expectRefusal(`W1 ${name}`, () => post(body, headers), 400, MISSING);
  });

  test("without any svix header → 400; unbranded webhook-* headers alone → 400", async () => {
    const body = JSON.stringify(userEvent("user.created", newId()));
    await expectRefusal("W1 none", () => post(body, { "content-type": "application/json" }), 400, MISSING);
    const h = signed(body);
    await expectRefusal(
      "W1 webhook-* only",
      () =>
        post(body, {
          "content-type": "application/json",
          "webhook-id": h["svix-id"]!,
          "webhook-timestamp": h["svix-timestamp"]!,
          "webhook-signature": h["svix-signature"]!,
        }),
      400,
      MISSING,
    );
  });
});

describe("W2/W9/W10 bad signatures", () => {
  const valid = () => {
    const body = JSON.stringify(userEvent("user.created", newId()));
    return { body, headers: signed(body) };
  };
  test.each([
    ["JS invalid", "v1,dawfeoifkpqwoekfpqoekf"],
    ["Python last char", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="],
    ["C# truncated", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLawdd"],
    ["Java v2", "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="],
    ["Rust no-verify", "v1,R3PTzyfHASBKHH98a7yexTwaJ4yNIcGhFQc1yuN+BPU="],
    ["v1, only", "v1,"],
    ["garbage", "garbage"],
    [
      "JS decoys only",
      "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
    ],
    [
      "Rust decoys only",
      "v1,tFtCZ5RDCPxzWQRWXWPgrCgE2frDBe9gjpbWQxnVfsQ= v1,Mm7xgUVICxZfQ3bgf0h0Dof65L/IFx+PnZvnDWPCX6Q= v1,9DfC1c3eeOrXB6w/5dIDydLNQaEyww5KalE5jLBZucE=",
    ],
  ])("%s → 400", async (name, signature) => {
    const { body, headers } = valid();
    await expectRefusal(
      `W2 ${name}`,
      () => post(body, { ...headers, "svix-signature": signature }),
      400,
      INVALID,
    );
  });

  test("the first 8 characters of a valid signature → 400", async () => {
    const { body, headers } = valid();
    await expectRefusal(
      "W2 partial",
      () => post(body, { ...headers, "svix-signature": headers["svix-signature"]!.slice(0, 8) }),
      400,
      INVALID,
    );
  });

  test.each(["v1a", "v2", "V1", "v0", "v1 "])("W10 the valid bytes under scheme %j → 400", async (scheme) => {
    const { body, headers } = valid();
    const bytes = headers["svix-signature"]!.slice(3);
    await expectRefusal(
      `W10 ${scheme}`,
      () => post(body, { ...headers, "svix-signature": `${scheme},${bytes}` }),
      400,
      INVALID,
    );
  });

  test("W8 several signatures, one valid (official decoys around it) → 200, applied once", async () => {
    for (const decoys of [
      [
        "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
        "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
        null,
        "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
      ],
      [
        "v1,tFtCZ5RDCPxzWQRWXWPgrCgE2frDBe9gjpbWQxnVfsQ=",
        "v1,Mm7xgUVICxZfQ3bgf0h0Dof65L/IFx+PnZvnDWPCX6Q=",
        null,
        "v1,9DfC1c3eeOrXB6w/5dIDydLNQaEyww5KalE5jLBZucE=",
      ],
    ]) {
      const id = newId();
      const body = JSON.stringify(userEvent("user.created", id));
      const headers = signed(body);
      const signature = decoys.map((d) => d ?? headers["svix-signature"]).join(" ");
      const answer = await post(body, { ...headers, "svix-signature": signature });
      expect(answer).toMatchObject({ status: 200, body: { outcome: "applied" } });
      expect(row(id)).toBeDefined();
      tally.accept();
    }
  });
});

describe("W3/W4 the signed content changed after signing", () => {
  test("body: one byte, re-serialized whitespace, key order, appended newline, leading space, escaped character", async () => {
    const id = newId();
    const event = userEvent("user.created", id);
    const body = JSON.stringify(event);
    const headers = signed(body);
    const { data, ...envelope } = event;
    const variants: [string, string][] = [
      ["one byte", body.replace(id, id.slice(0, -1) + "X")],
      ["pretty-printed", JSON.stringify(event, null, 2)],
      ["key order", JSON.stringify({ ...envelope, data })],
      ["appended newline", `${body}\n`],
      ["leading space", ` ${body}`],
      ["escaped character", body.replace('"type"', '"typ\\u0065"')],
      ["role raised", body.replace('"public_metadata":{}', '"public_metadata":{"role":"admin"}')],
    ];
    for (const [name, altered] of variants) {
      expect(altered).not.toBe(body);
      await expectRefusal(`W3 ${name}`, () => post(altered, headers), 400, INVALID);
    }
    expect(row(id)).toBeUndefined();
  });

  test("a UTF-8 BOM prepended after signing: recorded (the body is verified as decoded text)", async () => {
    // The route verifies `TextDecoder().decode(bytes)` (as `req.text()` would), which drops a
    // leading BOM, so these bytes verify. The decoded event is exactly the signed one: nothing
    // can be changed this way, and a second copy is deduplicated by svix-id.
    const id = newId();
    const body = JSON.stringify(userEvent("user.created", id));
    const headers = signed(body);
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(body)]);
    const answer = await post(new Uint8Array(withBom), headers);
    if (answer.status === 200) {
      expect(row(id)).toMatchObject({ clerkId: id, email: `${id}@security.test`, role: "user" });
      expect(await post(body, headers)).toMatchObject({ status: 200, body: { outcome: "duplicate" } });
    }
    tally.record(
      `W3 BOM prepended after signing: HTTP ${answer.status} (decoded text verified; content identical to the signed event)`,
    );
  });

  test("headers: svix-id changed, timestamp +1, and malformed timestamps", async () => {
    const body = JSON.stringify(userEvent("user.created", newId()));
    const headers = signed(body);
    const ts = Number(headers["svix-timestamp"]);
    await expectRefusal("W4 svix-id", () => post(body, { ...headers, "svix-id": "msg_other" }), 400, INVALID);
    await expectRefusal(
      "W4 ts+1",
      () => post(body, { ...headers, "svix-timestamp": String(ts + 1) }),
      400,
      INVALID,
    );
    for (const bad of ["hello", "-1", "", " ", "1e9", "0x1", String(ts - 400), "99999999999999999999"]) {
      await expectRefusal(
        `W7 ts ${JSON.stringify(bad)}`,
        () => post(body, { ...headers, "svix-timestamp": bad }),
        400,
      );
    }
    // svix parses the header with parseInt: trailing characters after the signed seconds are
    // ignored and the signature still matches (the catalogue's "don't rely on it"). The signed
    // content is unchanged, so nothing can be forged this way; recorded, not asserted.
    for (const suffix of ["abc", ".5"]) {
      const body2 = JSON.stringify(userEvent("user.created", newId()));
      const h2 = signed(body2);
      const answer = await post(body2, { ...h2, "svix-timestamp": `${h2["svix-timestamp"]}${suffix}` });
      tally.record(
        `W7 svix-timestamp "<signed seconds>${suffix}": HTTP ${answer.status} (svix parseInt quirk; signed bytes unchanged)`,
      );
    }
  });
});

describe("W5/W6 replay window (5 minutes each way)", () => {
  test.each([
    ["301 s old", -301_000],
    ["a day old", -86_400_000],
    ["301 s ahead", 301_000],
    ["a day ahead", 86_400_000],
  ])("signed %s → 400", async (name, offset) => {
    const body = JSON.stringify(userEvent("user.created", newId()));
    await expectRefusal(
      `W5/6 ${name}`,
      () => post(body, signed(body, { at: new Date(Date.now() + offset) })),
      400,
      INVALID,
    );
  });

  test.each([
    ["299 s old", -299_000],
    ["299 s ahead", 299_000],
  ])("boundary: signed %s → 200 (inside the window)", async (_name, offset) => {
    const id = newId();
    const body = JSON.stringify(userEvent("user.created", id));
    const answer = await post(body, signed(body, { at: new Date(Date.now() + offset) }));
    expect(answer).toMatchObject({ status: 200, body: { outcome: "applied" } });
    expect(row(id)).toBeDefined();
    tally.accept();
  });
});

describe("W12 wrong secret", () => {
  test("signed with another whsec secret, with svix vector A's secret, and with the IdP secret minus its prefix decoded differently → 400", async () => {
    const body = JSON.stringify(userEvent("user.created", newId()));
    for (const [name, other] of [
      ["another secret", `whsec_${Buffer.from("another-secret-entirely-0123456789").toString("base64")}`],
      ["vector A secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
      ["the secret's text as the key", `whsec_${Buffer.from(secret).toString("base64")}`],
    ] as const) {
      await expectRefusal(`W12 ${name}`, () => post(body, signed(body, { secret: other })), 400, INVALID);
    }
  });

  test("the same secret without its whsec_ prefix signs identically (svix accepts both forms)", async () => {
    const id = newId();
    const body = JSON.stringify(userEvent("user.created", id));
    const svixId = newSvixId();
    const at = new Date();
    const bare = new Webhook(secret.replace(/^whsec_/, "")).sign(svixId, at, body);
    expect(bare).toBe(new Webhook(secret).sign(svixId, at, body));
    const answer = await post(body, {
      "svix-id": svixId,
      "svix-timestamp": String(Math.floor(at.getTime() / 1000)),
      "svix-signature": bare,
      "content-type": "application/json",
    });
    expect(answer).toMatchObject({ status: 200, body: { outcome: "applied" } });
    tally.accept();
  });
});

describe("W13/W14 duplicates and replays: at-least-once delivery, exactly-once effect", () => {
  test("W13 same svix-id with fresh signatures, twice in a row and three at once: one effect", async () => {
    const id = newId();
    const body = JSON.stringify(userEvent("user.created", id));
    const svixId = newSvixId();
    const audit = count("auditLog");
    const events = count("webhookEvents");
    expect(await post(body, signed(body, { svixId }))).toMatchObject({
      status: 200,
      body: { outcome: "applied" },
    });
    const after = dbState(backend);
    const again = [await post(body, signed(body, { svixId }))];
    again.push(...(await Promise.all([1, 2, 3].map(() => post(body, signed(body, { svixId }))))));
    expect(again.map((a) => [a.status, a.body])).toEqual(Array(4).fill([200, { outcome: "duplicate" }]));
    expectUnchanged(backend, after, tally, "W13");
    expect(count("auditLog")).toBe(audit + 1);
    expect(count("webhookEvents")).toBe(events + 1);
    tally.hold(4);
  });

  test("W14 a byte-identical replay inside the window is a no-op", async () => {
    const id = newId();
    const body = JSON.stringify(userEvent("user.created", id));
    const headers = signed(body);
    expect((await post(body, headers)).status).toBe(200);
    const after = dbState(backend);
    for (let i = 0; i < 3; i++) {
      expect(await post(body, headers)).toMatchObject({ status: 200, body: { outcome: "duplicate" } });
    }
    expectUnchanged(backend, after, tally, "W14");
    tally.hold(3);
  });

  test("a replayed user.created with an altered role under the captured headers → 400, role unchanged", async () => {
    const id = newId();
    const body = JSON.stringify(userEvent("user.created", id));
    const headers = signed(body);
    await post(body, headers);
    const altered = body.replace('"public_metadata":{}', '"public_metadata":{"role":"admin","plan":"pro"}');
    await expectRefusal("W14 altered replay", () => post(altered, headers), 400, INVALID);
    expect(row(id)).toMatchObject({ role: "user", plan: "free_user" });
  });
});

describe("W15–W17 ordering and tombstones", () => {
  test("W15 updated (newer) before created (older): the row stays at the newer state", async () => {
    const id = newId();
    const t = Date.now();
    const updated = JSON.stringify(
      userEvent("user.updated", id, { updatedAt: t, publicMetadata: { plan: "pro" } }),
    );
    expect((await post(updated, signed(updated))).body).toEqual({ outcome: "applied" });
    const created = JSON.stringify(userEvent("user.created", id, { updatedAt: t - 5000 }));
    const before = dbState(backend);
    expect(await post(created, signed(created))).toMatchObject({ status: 200, body: { outcome: "stale" } });
    expect(row(id)).toMatchObject({ plan: "pro", clerkUpdatedAt: t });
    // A stale event still records its svix-id (dedupe); the users table is untouched.
    expect(usersRows(backend)).toEqual(before.tables["users"]);
    tally.hold();
  });

  test("W16 deleted before created/updated: the tombstone wins, the user is never revived", async () => {
    const id = newId();
    const del = JSON.stringify(deletedEvent(id));
    expect((await post(del, signed(del))).body).toEqual({ outcome: "deleted" });
    for (const type of ["user.created", "user.updated"] as const) {
      const late = JSON.stringify(
        userEvent(type, id, {
          updatedAt: Date.now() + 60_000,
          publicMetadata: { role: "admin", plan: "pro" },
        }),
      );
      const before = usersRows(backend);
      expect(await post(late, signed(late))).toMatchObject({ status: 200, body: { outcome: "tombstoned" } });
      expect(usersRows(backend)).toEqual(before);
    }
    expect(row(id)).toMatchObject({ role: "user", plan: "free_user", deletedAt: expect.any(Number) });
    tally.hold(2);
  });

  test("W17 a stale update never rolls a newer row back", async () => {
    const id = newId();
    const t = Date.now();
    for (const [type, at, role] of [
      ["user.created", t - 2000, "user"],
      ["user.updated", t, "admin"],
    ] as const) {
      const body = JSON.stringify(userEvent(type, id, { updatedAt: at, publicMetadata: { role } }));
      expect((await post(body, signed(body))).status).toBe(200);
    }
    const stale = JSON.stringify(
      userEvent("user.updated", id, { updatedAt: t - 1000, publicMetadata: { role: "user" } }),
    );
    const before = usersRows(backend);
    expect(await post(stale, signed(stale))).toMatchObject({ status: 200, body: { outcome: "stale" } });
    expect(usersRows(backend)).toEqual(before);
    expect(row(id)).toMatchObject({ role: "admin", clerkUpdatedAt: t });
    tally.hold();
  });
});

describe("W18 oversized bodies", () => {
  const oversized = (bytes: number) => {
    const event = userEvent("user.created", newId());
    return JSON.stringify({ ...event, padding: "x".repeat(bytes) });
  };

  test.each([
    ["300 KB", 300 * 1024],
    ["1 MB", 1024 * 1024],
    ["21 MB (over Convex's 20 MB http action limit)", 21 * 1024 * 1024],
  ])("%s, correctly signed → 413", async (name, bytes) => {
    const body = oversized(bytes);
    const started = Date.now();
    await expectRefusal(`W18 ${name}`, () => post(body, signed(body)), 413);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  test("300 KB sent chunked (no Content-Length) → 413", async () => {
    const body = oversized(300 * 1024);
    const bytes = new TextEncoder().encode(body);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 16 * 1024) controller.enqueue(bytes.slice(i, i + 16 * 1024));
        controller.close();
      },
    });
    await expectRefusal(
      "W18 chunked",
      async () => {
        const res = await fetch(url, {
          method: "POST",
          headers: signed(body),
          body: stream,
          duplex: "half",
        } as RequestInit);
        const text = await res.text();
        return { status: res.status, body: text, text };
      },
      413,
    );
  });

  test("a Content-Length that lies (declares 1 MB, sends a small valid event) does not get it applied", async () => {
    const id = newId();
    const body = JSON.stringify(userEvent("user.created", id));
    const net = await import("node:net");
    await idp.whenDelivered(10_000);
    const before = dbState(backend);
    const headers = signed(body);
    const response = await new Promise<string>((resolve) => {
      const socket = net.connect(backend.sitePort, "127.0.0.1", () => {
        socket.write(
          `POST /clerk-users-webhook HTTP/1.1\r\nHost: 127.0.0.1:${backend.sitePort}\r\n` +
            Object.entries(headers)
              .map(([k, v]) => `${k}: ${v}\r\n`)
              .join("") +
            `Content-Length: ${1024 * 1024}\r\nConnection: close\r\n\r\n${body}`,
        );
      });
      let received = "";
      socket.on("data", (c: Buffer) => (received += c.toString()));
      const done = () => resolve(received);
      socket.on("close", done);
      socket.on("error", done);
      setTimeout(() => {
        socket.destroy();
        resolve(received);
      }, 3000);
    });
    expect(response).not.toMatch(/^HTTP\/1\.1 2/);
    expectUnchanged(backend, before, tally, "W18 lying length");
    tally.reject();
  });
});

describe("W19–W21 payloads", () => {
  test.each([
    ["not JSON", "this is not json"],
    ["truncated JSON", '{"type":"user.created","data":{'],
    ["empty body", ""],
    ["a UTF-8 BOM then JSON", "\uFEFF" + JSON.stringify(userEvent("user.created", "user_bom"))],
  ])("W19 signed but %s → 400", async (name, body) => {
    await expectRefusal(`W19 ${name}`, () => post(body, signed(body)), 400);
  });

  test("W19 the non-JSON refusal is typed: 400 { error: 'malformed event' }", async () => {
    const body = "this is not json";
    await expectRefusal("W19 typed", () => post(body, signed(body)), 400, MALFORMED);
  });

  test.each([
    "session.created",
    "organization.created",
    "email.created",
    "foo.bar",
    "user.*",
    "USER.CREATED",
  ])("W20 unknown event type %s → 200 ignored, nothing written", async (type) => {
    const body = JSON.stringify({ ...userEvent("user.created", newId()), type });
    await idp.whenDelivered(10_000);
    const before = dbState(backend);
    expect(await post(body, signed(body))).toMatchObject({ status: 200, body: { outcome: "ignored" } });
    expectUnchanged(backend, before, tally, `W20 ${type}`);
    tally.hold();
  });

  test.each([
    ["a JSON array", "[1,2,3]"],
    ["null", "null"],
    ["no type", JSON.stringify({ object: "event", data: { id: "user_x" } })],
    ["numeric type", JSON.stringify({ object: "event", type: 1, data: {} })],
    [
      "user.created without data.id",
      JSON.stringify({ ...userEvent("user.created", "x"), data: { updated_at: 1, email_addresses: [] } }),
    ],
    ["user.created with an empty id", JSON.stringify(userEvent("user.created", ""))],
    [
      "user.created with a numeric id",
      JSON.stringify({ ...userEvent("user.created", "x"), data: { ...clerkUser("x"), id: 42 } }),
    ],
    [
      "user.updated with updated_at a string",
      JSON.stringify({
        ...userEvent("user.updated", "x"),
        data: { ...clerkUser("x"), updated_at: "yesterday" },
      }),
    ],
    [
      "user.updated with a negative updated_at",
      JSON.stringify({ ...userEvent("user.updated", "x"), data: { ...clerkUser("x"), updated_at: -1 } }),
    ],
    [
      "user.created with email_addresses an object",
      JSON.stringify({ ...userEvent("user.created", "x"), data: { ...clerkUser("x"), email_addresses: {} } }),
    ],
    [
      "user.created with public_metadata an array",
      JSON.stringify({
        ...userEvent("user.created", "x"),
        data: { ...clerkUser("x"), public_metadata: ["admin"] },
      }),
    ],
    [
      "user.deleted without an id",
      JSON.stringify({ type: "user.deleted", object: "event", data: { deleted: true } }),
    ],
    ["object not event", JSON.stringify({ ...userEvent("user.created", "x"), object: "user" })],
  ])("W21 signed, known type, schema-invalid: %s → 400", async (name, body) => {
    await expectRefusal(
      `W21 ${name}`,
      () => post(body, signed(body)),
      400,
      expect.objectContaining(MALFORMED),
    );
  });

  test("unknown role/plan in public metadata, and unsafe metadata, grant nothing", async () => {
    const id = newId();
    const body = JSON.stringify(
      userEvent("user.created", id, {
        publicMetadata: { role: "superadmin", plan: "enterprise", isAdmin: true },
      }),
    );
    expect((await post(body, signed(body))).body).toEqual({ outcome: "applied" });
    // clerkUser() puts role admin / plan pro in unsafe_metadata.
    expect(row(id)).toMatchObject({ role: "user", plan: "free_user" });
    tally.hold();
  });
});

describe("content types", () => {
  test("a form-encoded copy of a signed JSON event → 400 invalid signature", async () => {
    const id = newId();
    const body = JSON.stringify(userEvent("user.created", id));
    const headers = signed(body);
    const form = new URLSearchParams({ type: "user.created", "data[id]": id, object: "event" }).toString();
    await expectRefusal(
      "form copy",
      () => post(form, { ...headers, "content-type": "application/x-www-form-urlencoded" }),
      400,
      INVALID,
    );
  });

  test("a correctly signed form-encoded body → 400 malformed event (typed), nothing written", async () => {
    const form = new URLSearchParams({ type: "user.created", "data[id]": newId() }).toString();
    await expectRefusal(
      "signed form",
      () => post(form, { ...signed(form), "content-type": "application/x-www-form-urlencoded" }),
      400,
      MALFORMED,
    );
  });

  test.each([
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/xml",
    "",
  ])("unsigned JSON under content type %j → 400", async (type) => {
    const body = JSON.stringify(userEvent("user.created", newId()));
    const headers = { ...signed(body), "svix-signature": "v1,AAAA", "content-type": type };
    if (type === "") delete (headers as Record<string, string>)["content-type"];
    await expectRefusal(`content type ${type || "none"}`, () => post(body, headers), 400, INVALID);
  });

  test("the content type does not change the verdict on a signed event (the signature decides)", async () => {
    // Recorded: svix authenticates the raw body, so a valid signature under text/plain is processed
    // as under application/json. A duplicate svix-id keeps it a no-op here.
    const id = newId();
    const body = JSON.stringify(userEvent("user.created", id));
    const headers = signed(body);
    expect((await post(body, headers)).body).toEqual({ outcome: "applied" });
    const after = dbState(backend);
    const plain = await post(body, {
      ...signed(body, { svixId: headers["svix-id"] }),
      "content-type": "text/plain",
    });
    expect(plain).toMatchObject({ status: 200, body: { outcome: "duplicate" } });
    expectUnchanged(backend, after, tally, "content type text/plain duplicate");
    tally.hold();
  });
});

describe("W23 methods and routes", () => {
  test.each(["GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])(
    "%s /clerk-users-webhook is not processed",
    async (method) => {
      const body = JSON.stringify(userEvent("user.created", newId()));
      const answer = await expectRefusal(`W23 ${method}`, () => post(body, signed(body), { method }), 404);
      expect(answer.status).toBe(404);
    },
  );

  test.each([
    "/clerk-users-webhook/",
    "/clerk-users-webhook/x",
    "/CLERK-USERS-WEBHOOK",
    "/clerk-users-webhook%2F",
    "/clerk-users-webhook.json",
  ])("a signed event POSTed to %s is not processed", async (path) => {
    const body = JSON.stringify(userEvent("user.created", newId()));
    await expectRefusal(`W23 ${path}`, () => post(body, signed(body), { path }), 404);
  });

  test("the query string does not change the route or bypass verification", async () => {
    const body = JSON.stringify(userEvent("user.created", newId()));
    await expectRefusal(
      "W23 query string",
      () =>
        post(
          body,
          { ...signed(body), "svix-signature": "v1,AAAA" },
          { path: "/clerk-users-webhook?skip_verify=1" },
        ),
      400,
      INVALID,
    );
  });
});

describe("W24 the internal mutation behind the webhook is not callable by clients", () => {
  const applyUserEvent = makeFunctionReference<"mutation">("clerkWebhooks:applyUserEvent");
  const args = {
    svixId: "msg_forged",
    type: "user.created",
    clerkId: "user_forged_admin",
    user: clerkUser("user_forged_admin", { publicMetadata: { role: "admin", plan: "pro" } }),
  };

  test("over HTTP (anonymous and as the admin) and over the WebSocket (as the admin)", async () => {
    await idp.whenDelivered(10_000);
    const before = dbState(backend);
    const admin = await signIn(idp, SEEDED.admin);
    for (const token of [undefined, admin.token]) {
      const client = new ConvexHttpClient(backend.url);
      if (token) client.setAuth(token);
      expect((await outcomeOf(client.mutation(applyUserEvent, args))).outcome).toBe("NOT_PUBLIC");
      tally.reject();
    }
    const { client } = await clientWithToken(backend.url, admin.token);
    try {
      expect((await outcomeOf(client.mutation(applyUserEvent, args))).outcome).toBe("NOT_PUBLIC");
      tally.reject();
    } finally {
      await client.close();
    }
    for (const route of ["/api/mutation", "/api/function", "/api/action", "/api/query"]) {
      const res = await fetch(`${backend.url}${route}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${admin.token}` },
        body: JSON.stringify({ path: "clerkWebhooks:applyUserEvent", args, format: "json" }),
      });
      const answer = (await res.json()) as { status: string; errorMessage: string };
      expect(answer.status).toBe("error");
      expect(answer.errorMessage).toMatch(/Could not find public function/);
      tally.reject();
    }
    expectUnchanged(backend, before, tally, "W24");
    expect(row("user_forged_admin")).toBeUndefined();
  });
});

describe("svix's official vectors A and B", () => {
  const vectors = [
    {
      name: "A",
      secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
      timestamp: 1614265330,
      payload: '{"test": 2432232314}',
      signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    },
    {
      name: "B",
      secret: "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
      id: "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
      timestamp: 1649367553,
      payload: '{"email":"test@example.com","username":"test_user"}',
      signature: "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
    },
  ];

  test.each(vectors)(
    "vector $name: signed byte for byte (with and without the whsec_ prefix), verified at its own time",
    (v) => {
      const at = new Date(v.timestamp * 1000);
      expect(new Webhook(v.secret).sign(v.id, at, v.payload)).toBe(v.signature);
      expect(new Webhook(v.secret.replace(/^whsec_/, "")).sign(v.id, at, v.payload)).toBe(v.signature);
      const headers = {
        "svix-id": v.id,
        "svix-timestamp": String(v.timestamp),
        "svix-signature": v.signature,
      };
      // Only Date is faked, for the synchronous verify calls (the in-process backend is idle meanwhile).
      vi.useFakeTimers({ toFake: ["Date"], now: v.timestamp * 1000 + 10_000 });
      try {
        expect(new Webhook(v.secret).verify(v.payload, headers)).toEqual(JSON.parse(v.payload));
        for (const bad of [
          "v1,dawfeoifkpqwoekfpqoekf",
          v.signature.slice(0, -2) + (v.signature.at(-2) === "A" ? "B" : "A") + "=",
          v.signature.replace("v1,", "v2,"),
          v.signature.slice(0, 8),
          "v1,",
        ]) {
          expect(() =>
            new Webhook(v.secret).verify(v.payload, { ...headers, "svix-signature": bad }),
          ).toThrow();
        }
        expect(() =>
          new Webhook(v.secret).verify(v.payload, { ...headers, "svix-timestamp": "hello" }),
        ).toThrow();
        expect(() =>
          new Webhook(v.secret).verify(v.payload, { ...headers, "svix-timestamp": "-1" }),
        ).toThrow();
      } finally {
        vi.useRealTimers();
      }
      // And on the real clock the vector is years old: refused.
      expect(() => new Webhook(v.secret).verify(v.payload, headers)).toThrow(/too old/i);
      tally.hold();
    },
  );

  test.each(vectors)(
    "vector $name against the backend: refused with its own secret, past verification only with the backend's",
    async (v) => {
      // 1. The vector verbatim (its secret, its 2021/2022 timestamp).
      await expectRefusal(
        `vector ${v.name} verbatim`,
        () =>
          post(v.payload, {
            "svix-id": v.id,
            "svix-timestamp": String(v.timestamp),
            "svix-signature": v.signature,
            "content-type": "application/json",
          }),
        400,
        INVALID,
      );
      // 2. Its payload and id re-signed now with the vector's secret: the backend's secret differs.
      await expectRefusal(
        `vector ${v.name} fresh, vector secret`,
        () => post(v.payload, signed(v.payload, { secret: v.secret, svixId: v.id })),
        400,
        INVALID,
      );
      // 3. Re-signed now with the backend's secret: verification passes; the payload is not a Clerk event.
      await expectRefusal(
        `vector ${v.name} fresh, backend secret`,
        () => post(v.payload, signed(v.payload, { svixId: v.id })),
        400,
        MALFORMED,
      );
    },
  );
});
