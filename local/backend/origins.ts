/**
 * Which browser pages may use the backend. Browsers attach `Origin` to cross-origin calls and to
 * every WebSocket upgrade; a page on another site must not drive a developer's local backend
 * (CORS with credentials mirrored for any origin, and WebSockets, which CORS does not cover at
 * all, let it call every function as anonymous and read the answers). Allowed: pages served from
 * this machine (loopback hosts, any port, as the IdP allows: local/loopback.ts) and the origins
 * configured in LOCAL_CONVEX_ALLOWED_ORIGINS / `allowedOrigins` (e.g. the SPA behind a tunnel).
 * No Origin header at all is a non-browser client (Node, curl) and is allowed; "null" (a sandboxed
 * or file: page) is not.
 */
import type { IncomingMessage } from "node:http";
import { isLoopbackOrigin } from "../loopback.ts";

export const ALLOWED_ORIGINS_ENV = "LOCAL_CONVEX_ALLOWED_ORIGINS";

/** `https://App.example:443/` → `https://app.example`; throws on anything that is not an http(s) origin. */
function normalizeOrigin(raw: string): string {
  const url = new URL(raw);
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("not http(s)");
  if (url.pathname !== "/" || url.search || url.hash || url.username || url.password)
    throw new Error("an origin has no path, query or credentials");
  return url.origin;
}

/** Comma-separated origins (the env variable's format); a bad entry is a startup error that names it. */
export function parseAllowedOrigins(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "")
    .map((entry) => {
      try {
        return normalizeOrigin(entry);
      } catch (error) {
        throw new Error(
          `${ALLOWED_ORIGINS_ENV}: "${entry}" is not an http(s) origin like https://app.example:8080 (${(error as Error).message})`,
          { cause: error },
        );
      }
    });
}

export type OriginPolicy = {
  /** The request's Origin, or undefined when it sent none. */
  originOf(req: IncomingMessage): string | undefined;
  /** No Origin, a loopback origin, or a configured one. */
  allows(origin: string | undefined): boolean;
};

export function originPolicy(configured: readonly string[]): OriginPolicy {
  const extra = new Set(configured.map(normalizeOrigin));
  return {
    originOf: (req) => req.headers.origin,
    allows(origin) {
      if (origin === undefined) return true;
      if (isLoopbackOrigin(origin)) return true;
      try {
        return extra.has(normalizeOrigin(origin));
      } catch {
        return false;
      }
    },
  };
}
