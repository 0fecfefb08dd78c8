/// <reference types="vite/client" />
/**
 * Test fixtures shared by the convex-test suites: the module map, actors with tokens,
 * a seeded world, a fake Clerk Backend API and a snapshot of every table.
 * (Two dots in the file name: `npx convex deploy` skips it, as it skips *.test.ts.)
 */
import { convexTest, type TestConvexForDataModel } from "convex-test";
import type { UserIdentity } from "convex/server";
import { vi } from "vitest";
import type { DataModel, Id } from "./_generated/dataModel";
import type { Plan, Role } from "./lib/permissions";
import { recordPostChange } from "./lib/postStats";
import schema from "./schema";

/** Every deployable module (the names `npx convex deploy` bundles: one dot only). */
export const modules = Object.fromEntries(
  Object.entries(import.meta.glob("./**/*.*s")).filter(
    ([path]) => path.split("/").at(-1)!.split(".").length === 2,
  ),
);

export const ISSUER = "https://clerk.gatehouse.test";

/** Every key of a post in the public feed, sorted: the post's public fields and its author's name. */
export const PUBLIC_POST_KEYS = [
  "_creationTime",
  "_id",
  "authorId",
  "authorName",
  "body",
  "title",
  "updatedAt",
  "visibility",
];

export function newTest() {
  return convexTest(schema, modules);
}
/** A deployment as one caller sees it (the root, or `withIdentity`). */
export type TestConvex = TestConvexForDataModel<DataModel>;

export type TokenClaims = {
  role?: Role;
  plan?: Plan;
  /** The `user_updated_at` claim: Clerk's updated_at of the user when the token was minted. */
  userUpdatedAt?: number;
  /** `iat` in ms (Convex's OIDC identities do not carry it; kept for the fallback path). */
  iatMs?: number;
  email?: string;
  name?: string;
  extra?: Record<string, unknown>;
};

/** A verified identity as Convex hands it to functions for a Clerk session token. */
export function identityFor(clerkId: string, claims: TokenClaims = {}): Partial<UserIdentity> {
  return {
    issuer: ISSUER,
    subject: clerkId,
    tokenIdentifier: `${ISSUER}|${clerkId}`,
    email: claims.email ?? `${clerkId}@gatehouse.test`,
    name: claims.name ?? clerkId,
    metadata: { role: claims.role ?? "user", plan: claims.plan ?? "free_user" },
    ...(claims.userUpdatedAt === undefined ? {} : { user_updated_at: claims.userUpdatedAt }),
    ...(claims.iatMs === undefined ? {} : { iat: Math.floor(claims.iatMs / 1000) }),
    ...claims.extra,
  };
}

type Actor = {
  clerkId: string;
  row?: { role: Role; plan: Plan; updatedAt: number; deleted?: boolean };
  token: TokenClaims;
};

/**
 * The actors of the authorization matrix. Each token states the user as of the last change
 * its row holds, except the revoked admin's, minted before the demotion its row already holds.
 */
export function actors(now = Date.now()) {
  const rowAt = now - 120_000;
  const tokenAt = now - 60_000;
  const a = (clerkId: string, role: Role, plan: Plan, extra: Partial<Actor> = {}): Actor => ({
    clerkId,
    row: { role, plan, updatedAt: rowAt },
    token: { role, plan, userUpdatedAt: rowAt },
    ...extra,
  });
  return {
    owner: a("user_owner", "user", "pro"),
    other: a("user_other", "user", "free_user"),
    admin: a("user_admin", "admin", "pro"),
    free: a("user_free", "user", "free_user"),
    pro: a("user_pro", "user", "pro"),
    deleted: a("user_deleted", "user", "pro", {
      row: { role: "user", plan: "pro", updatedAt: rowAt, deleted: true },
    }),
    revoked: {
      clerkId: "user_revoked",
      // Demoted (admin → user, pro → free_user) by a webhook that landed after the token was minted.
      row: { role: "user", plan: "free_user", updatedAt: tokenAt + 30_000 },
      token: { role: "admin", plan: "pro", userUpdatedAt: tokenAt },
    } as Actor,
  };
}
export type ActorName = "anonymous" | keyof ReturnType<typeof actors>;
export const ACTOR_NAMES: ActorName[] = [
  "anonymous",
  "owner",
  "other",
  "admin",
  "free",
  "pro",
  "deleted",
  "revoked",
];

export type World = {
  t: ReturnType<typeof newTest>;
  as: (actor: ActorName) => TestConvex;
  posts: { ownerPrivate: Id<"posts">; ownerPublic: Id<"posts">; otherPrivate: Id<"posts"> };
  clerkIds: Record<Exclude<ActorName, "anonymous">, string>;
};

/** A fresh deployment with every actor's users row and a few posts. */
export async function seedWorld(): Promise<World> {
  const t = newTest();
  const cast = actors();
  await t.run(async (ctx) => {
    for (const actor of Object.values(cast)) {
      if (!actor.row) continue;
      await ctx.db.insert("users", {
        clerkId: actor.clerkId,
        email: `${actor.clerkId}@gatehouse.test`,
        name: actor.clerkId,
        imageUrl: "",
        role: actor.row.role,
        plan: actor.row.plan,
        clerkUpdatedAt: actor.row.updatedAt,
        synced: true,
        ...(actor.row.deleted ? { deletedAt: actor.row.updatedAt } : {}),
      });
    }
  });
  const insertPost = (authorId: string, visibility: "private" | "public", title: string) =>
    t.run(async (ctx) => {
      const id = await ctx.db.insert("posts", {
        authorId,
        title,
        body: "hello world",
        visibility,
        updatedAt: Date.now(),
      });
      await recordPostChange(ctx, null, await ctx.db.get("posts", id));
      return id;
    });
  const posts = {
    ownerPrivate: await insertPost(cast.owner.clerkId, "private", "owner private"),
    ownerPublic: await insertPost(cast.owner.clerkId, "public", "owner public"),
    otherPrivate: await insertPost(cast.other.clerkId, "private", "other private"),
  };
  const as = (name: ActorName) =>
    name === "anonymous" ? t : t.withIdentity(identityFor(cast[name].clerkId, cast[name].token));
  const clerkIds = Object.fromEntries(
    Object.entries(cast).map(([k, v]) => [k, v.clerkId]),
  ) as World["clerkIds"];
  return { t, as, posts, clerkIds };
}

const TABLES = [
  "users",
  "posts",
  "webhookEvents",
  "auditLog",
  "rateLimits",
  "pendingDemotions",
  "writeClaims",
] as const;

/** Every document of every table, to prove a rejected call changed nothing. */
export function snapshot(t: TestConvex) {
  return t.run(async (ctx) => {
    const all: Record<string, unknown[]> = {};
    for (const table of TABLES) all[table] = await ctx.db.query(table).collect();
    return all;
  });
}

/**
 * A stand-in for Clerk's Backend API at https://api.clerk.com, installed as the global
 * `fetch` so the real `@clerk/backend` client inside admin actions talks to it.
 */
export function fakeClerkApi() {
  const calls: { method: string; path: string; body: unknown; authorization: string | null }[] = [];
  /** Clerk's users for GET /v1/users and /v1/users/{id} (reconciliation); tests fill it. */
  const users = new Map<string, ReturnType<typeof clerkUser>>();
  const metadata = new Map<string, Record<string, unknown>>();
  /** Clerk Billing's subscription per user for GET /v1/users/{id}/billing/subscription; none is 404. */
  const subscriptions = new Map<string, unknown>();
  /** Set to answer subscription questions with this status instead (Billing not enabled: 403). */
  const billing = {
    refuseWith: undefined as number | undefined,
    /** This many subscription reads are answered 429 with Retry-After: 2 first. */
    rateLimitNext: 0,
  };
  const fake = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const body = request.method === "GET" ? undefined : await request.json().catch(() => undefined);
    calls.push({
      method: request.method,
      path: url.pathname,
      body,
      authorization: request.headers.get("authorization"),
    });
    const json = (value: unknown, status = 200) =>
      new Response(JSON.stringify(value), { status, headers: { "Content-Type": "application/json" } });
    if (request.method === "GET" && url.pathname === "/v1/users") {
      // Oldest first when asked (`+created_at`), as Clerk pages it.
      const all = [...users.values()].sort((a, b) => a.created_at - b.created_at);
      if (url.searchParams.get("order_by") !== "+created_at") all.reverse();
      const offset = Number(url.searchParams.get("offset") ?? 0);
      return json(all.slice(offset, offset + Number(url.searchParams.get("limit") ?? 10)));
    }
    if (request.method === "GET" && url.pathname === "/v1/users/count") {
      return json({ object: "total_count", total_count: users.size });
    }
    const subscription = /^\/v1\/users\/([^/]+)\/billing\/subscription$/.exec(url.pathname);
    if (request.method === "GET" && subscription?.[1]) {
      if (billing.rateLimitNext > 0) {
        billing.rateLimitNext--;
        return new Response(
          JSON.stringify({ errors: [{ code: "too_many_requests", message: "slow down", long_message: "" }] }),
          { status: 429, headers: { "Content-Type": "application/json", "Retry-After": "2" } },
        );
      }
      const found = subscriptions.get(decodeURIComponent(subscription[1]));
      if (billing.refuseWith !== undefined || found === undefined) {
        const status = billing.refuseWith ?? 404;
        return json({ errors: [{ code: "refused", message: "refused", long_message: "refused" }] }, status);
      }
      return json(found);
    }
    const one = /^\/v1\/users\/([^/]+)$/.exec(url.pathname);
    if (request.method === "GET" && one?.[1]) {
      const user = users.get(decodeURIComponent(one[1]));
      return user
        ? json(user)
        : json(
            { errors: [{ code: "resource_not_found", message: "not found", long_message: "not found" }] },
            404,
          );
    }
    const match = /^\/v1\/users\/([^/]+)\/metadata$/.exec(url.pathname);
    if (request.method === "PATCH" && match?.[1]) {
      const id = decodeURIComponent(match[1]);
      if (id.startsWith("user_missing")) {
        return Response.json(
          { errors: [{ code: "resource_not_found", message: "not found", long_message: "not found" }] },
          { status: 404, headers: { "Content-Type": "application/json" } },
        );
      }
      const patch =
        (body as { public_metadata?: Record<string, unknown> } | undefined)?.public_metadata ?? {};
      const merged = { ...metadata.get(id), ...patch };
      metadata.set(id, merged);
      return new Response(JSON.stringify(clerkUser(id, merged)), {
        status: 200,
        headers: { "Content-Type": "application/json" },
      });
    }
    return new Response("not found", { status: 404 });
  });
  return { fetch: fake, calls, users, subscriptions, billing };
}

export function clerkUser(id: string, publicMetadata: Record<string, unknown> = {}, updatedAt = Date.now()) {
  return {
    object: "user",
    id,
    first_name: "Test",
    last_name: "User",
    image_url: "https://img.gatehouse.test/x.png",
    has_image: false,
    primary_email_address_id: `idn_${id}`,
    email_addresses: [
      {
        object: "email_address",
        id: `idn_${id}`,
        email_address: `${id}@example.com`,
        verification: null,
        linked_to: [],
      },
    ],
    phone_numbers: [],
    web3_wallets: [],
    external_accounts: [],
    public_metadata: publicMetadata,
    private_metadata: { secret: "never stored" },
    unsafe_metadata: { role: "admin", plan: "pro" },
    created_at: updatedAt - 1000,
    updated_at: updatedAt,
  };
}
