import type { IncomingMessage } from "node:http";
import type { Result } from "../http.ts";

/**
 * Who may call a route:
 * - `browser`: pages on loopback origins, cross-origin, so CORS is answered (loopback origins only):
 *   OIDC discovery and the JWKS;
 * - `public`: anyone's page, like Clerk's image CDN: `Access-Control-Allow-Origin: *`, no
 *   credentials (avatars, which clerk-js loads with `crossorigin`);
 * - `backend`: Clerk's Backend API, `Authorization: Bearer <secret key>`, no CORS; also the dev
 *   mailbox (its codes reset passwords) and the dev API (verified sign-ups without a code, tokens
 *   for a session id), for which loopback alone is not enough;
 * - `fapi`: Clerk's Frontend API, called by clerk-js same-origin through a proxy, identified by the
 *   `__client` cookie: no CORS, POST with `?_method=PATCH|PUT|DELETE` stands for that method, and
 *   every call but GET needs an allowed `Origin` (CSRF, `fapi/originCheck.ts`).
 */
export type Access = "browser" | "public" | "backend" | "fapi";

export interface RouteContext {
  req: IncomingMessage;
  url: URL;
  /** The pattern's capture groups, decoded. */
  params: string[];
  /** The request's loopback Origin, if any (the token's `azp`). */
  origin: string | undefined;
}

export interface Route {
  method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  pattern: RegExp;
  access: Access;
  handle: (ctx: RouteContext) => Result | Promise<Result>;
}
