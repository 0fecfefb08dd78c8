import { z } from "zod";
import type { Accounts } from "../accounts.ts";
import { HttpError, notFound, ok, parseInput, readJson } from "../http.ts";
import type { SigningKey } from "../keys.ts";
import { displayName, primaryEmail, type UserJson } from "../users.ts";
import type { Route, RouteContext } from "./route.ts";

const metadata = z.record(z.string(), z.unknown()).nullable().optional();

/** `@clerk/backend` snake_cases the top-level keys only: `{ public_metadata: { ... } }`. */
const metadataBody = z.object({
  public_metadata: metadata,
  private_metadata: metadata,
  unsafe_metadata: metadata,
});

/** PATCH /v1/users/{id} (`users.updateUser`): the profile fields Gatehouse syncs. */
const profileBody = z
  .object({
    first_name: z.string().max(256).nullable().optional(),
    last_name: z.string().max(256).nullable().optional(),
  })
  .strict();

const ORDER_FIELDS = ["created_at", "updated_at"] as const;

/** GET /v1/users filters (Clerk's names); shared with /v1/users/count, as in Clerk. */
const listQuery = z.object({
  email_address: z.array(z.string()),
  user_id: z.array(z.string()),
  query: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(10),
  offset: z.coerce.number().int().min(0).default(0),
  order_by: z
    .string()
    .regex(new RegExp(`^[+-]?(${ORDER_FIELDS.join("|")})$`))
    .default("-created_at"),
});

function parseListQuery(url: URL) {
  const params = url.searchParams;
  return parseInput(listQuery, {
    email_address: params.getAll("email_address"),
    user_id: params.getAll("user_id"),
    query: params.get("query") ?? undefined,
    limit: params.get("limit") ?? undefined,
    offset: params.get("offset") ?? undefined,
    order_by: params.get("order_by") ?? undefined,
  });
}

function filterUsers(users: UserJson[], q: z.infer<typeof listQuery>): UserJson[] {
  const emails = new Set(q.email_address.map((e) => e.toLowerCase()));
  const ids = new Set(q.user_id);
  const text = q.query?.toLowerCase();
  return users.filter(
    (u) =>
      (emails.size === 0 || emails.has(primaryEmail(u).toLowerCase())) &&
      (ids.size === 0 || ids.has(u.id)) &&
      (!text || [u.id, primaryEmail(u), displayName(u)].some((s) => s.toLowerCase().includes(text))),
  );
}

/** Sorts by the field, ties in creation order, the direction applying to both (Clerk's default is newest first). */
function sortUsers(users: UserJson[], orderBy: string): UserJson[] {
  const descending = orderBy.startsWith("-");
  const field = orderBy.replace(/^[+-]/, "") as (typeof ORDER_FIELDS)[number];
  const sign = descending ? -1 : 1;
  return users
    .map((user, index) => ({ user, index }))
    .sort((a, b) => sign * (a.user[field] - b.user[field] || a.index - b.index))
    .map(({ user }) => user);
}

/**
 * The subset of Clerk's Backend API that Gatehouse (and tests) call through `@clerk/backend`
 * with `apiUrl` pointed here. Shapes follow the SDK's deserializer: a bare array for
 * GET /users (the SDK pairs it with GET /users/count to build `{ data, totalCount }`),
 * `object: "user"` on users, `deleted: true` on a deleted object.
 */
export function backendApiRoutes(accounts: Accounts, key: SigningKey): Route[] {
  const updateMetadata =
    (mode: "merge" | "replace") =>
    async ({ req, params: [id = ""] }: RouteContext) => {
      const updated = accounts.updateMetadata(id, parseInput(metadataBody, await readJson(req)), mode);
      if (!updated) throw notFound("user");
      return ok(updated);
    };

  return [
    {
      method: "GET",
      pattern: /^\/v1\/users$/,
      access: "backend",
      handle: ({ url }) => {
        const q = parseListQuery(url);
        const users = sortUsers(filterUsers(accounts.allUsers(), q), q.order_by);
        return ok(users.slice(q.offset, q.offset + q.limit));
      },
    },
    {
      method: "GET",
      pattern: /^\/v1\/users\/count$/,
      access: "backend",
      handle: ({ url }) => {
        const q = parseListQuery(url);
        return ok({ object: "total_count", total_count: filterUsers(accounts.allUsers(), q).length });
      },
    },
    {
      method: "GET",
      pattern: /^\/v1\/users\/([^/]+)$/,
      access: "backend",
      handle: ({ params: [id = ""] }) => {
        const user = accounts.getUser(id);
        if (!user) throw notFound("user");
        return ok(user);
      },
    },
    {
      method: "PATCH",
      pattern: /^\/v1\/users\/([^/]+)$/,
      access: "backend",
      handle: async ({ req, params: [id = ""] }) => {
        const updated = accounts.updateProfile(id, parseInput(profileBody, await readJson(req)));
        if (!updated) throw notFound("user");
        return ok(updated);
      },
    },
    {
      method: "PATCH",
      pattern: /^\/v1\/users\/([^/]+)\/metadata$/,
      access: "backend",
      handle: updateMetadata("merge"),
    },
    {
      method: "PUT",
      pattern: /^\/v1\/users\/([^/]+)\/metadata$/,
      access: "backend",
      handle: updateMetadata("replace"),
    },
    {
      method: "DELETE",
      pattern: /^\/v1\/users\/([^/]+)$/,
      access: "backend",
      handle: ({ params: [id = ""] }) => {
        const deleted = accounts.deleteUser(id);
        if (!deleted) throw notFound("user");
        return ok(deleted);
      },
    },
    {
      // What `verifyToken({ secretKey, apiUrl })` fetches when it is not given a `jwtKey`.
      method: "GET",
      pattern: /^\/v1\/jwks$/,
      access: "backend",
      handle: () => ok({ keys: [key.publicJwk] }),
    },
  ];
}

export function unauthorized(): HttpError {
  return new HttpError(
    401,
    "authentication_invalid",
    "Unauthorized request",
    "The secret key in the Authorization header (Bearer) is missing or invalid.",
  );
}
