import type { IncomingMessage } from "node:http";
import { HttpError } from "../http.ts";
import { isLoopbackOrigin } from "../origins.ts";

/**
 * Which pages may change state through the Frontend API (CSRF defence).
 *
 * Why: the `__client` cookie is `SameSite=Lax`, and sites are port-blind, so a page anyone serves
 * at `http://127.0.0.1:8080` is same-site with the app at `http://127.0.0.1:5173`: its form POST to
 * `…:5173/__clerk/v1/me?_method=DELETE` (or straight to the IdP's port: cookies ignore ports too)
 * carries the cookie. SameSite cannot tell the two apart; the `Origin` header can. Every browser
 * sends `Origin` on a POST, same-origin ones included (clerk-js's `fetch`es are POSTs), so a
 * state-changing call without one, or with `null` (sandboxed frames, `data:` pages), is refused.
 *
 * - a set of exact origins (`startIdp({ fapiOrigins })`, the app that proxies `/__clerk`): only
 *   those, compared as strings, the way browsers serialize an origin;
 * - `"any-loopback"` (no `fapiOrigins`: unit tests, the standalone CLI): any well-formed loopback
 *   origin, which still shuts out other machines' sites and `null`.
 */
export type FapiOriginPolicy = ReadonlySet<string> | "any-loopback";

/** The policy for `startIdp`'s `fapiOrigins`; a malformed entry is a start-up error, not a silent never-match. */
export function fapiOriginPolicy(origins: readonly string[] | undefined): FapiOriginPolicy {
  if (origins === undefined) return "any-loopback";
  if (origins.length === 0) {
    throw new Error("fapiOrigins must name at least one origin (leave it out to allow any loopback origin)");
  }
  for (const origin of origins) {
    if (!isSerializedLoopbackOrigin(origin)) {
      throw new Error(
        `fapiOrigins: ${JSON.stringify(origin)} is not a loopback origin as browsers send it ` +
          `(scheme://host[:port], lower case, no path or trailing slash), e.g. http://127.0.0.1:5173`,
      );
    }
  }
  return new Set(origins);
}

/** Throws 403 `origin_invalid` unless the request's raw `Origin` header is allowed to change state. */
export function requireFapiOrigin(req: IncomingMessage, policy: FapiOriginPolicy): void {
  // The raw header: `requestOrigin` maps `null` to "no origin", which must not pass here.
  const origin = req.headers.origin;
  const allowed =
    typeof origin === "string" &&
    (policy === "any-loopback" ? isSerializedLoopbackOrigin(origin) : policy.has(origin));
  if (!allowed) {
    throw new HttpError(
      403,
      "origin_invalid",
      "Invalid origin",
      "This request's Origin is not allowed to change anything through the Frontend API.",
    );
  }
}

/** `http(s)://<loopback host>[:port]` exactly as a browser serializes it (what `URL#origin` gives back). */
function isSerializedLoopbackOrigin(origin: string): boolean {
  if (!isLoopbackOrigin(origin)) return false;
  try {
    return new URL(origin).origin === origin;
  } catch {
    return false;
  }
}
