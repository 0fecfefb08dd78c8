import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { requireFapiOrigin, type FapiOriginPolicy } from "./fapi/originCheck.ts";
import { HttpError, send } from "./http.ts";
import {
  corsHeaders,
  isLoopbackHost,
  isLoopbackOrigin,
  PREFLIGHT_HEADERS,
  PUBLIC_CORS_HEADERS,
  requestOrigin,
} from "./origins.ts";
import { unauthorized } from "./routes/backendApi.ts";
import type { Route } from "./routes/route.ts";

export interface DispatchOptions {
  /** The Backend API key, for `backend` routes (the Backend API, the dev API and the dev mailbox). */
  secretKey: string;
  /** Which `Origin`s may change state through the Frontend API (`fapi/originCheck.ts`). */
  fapiOrigins: FapiOriginPolicy;
}

/**
 * Routes one request: loopback Host and Origin checks first, then CORS for browser routes, the
 * secret key for Backend API routes, the page's Origin for Frontend API calls that change state,
 * and Clerk-shaped JSON errors for anything that fails.
 */
export async function dispatch(
  req: IncomingMessage,
  res: ServerResponse,
  routes: Route[],
  { secretKey, fapiOrigins }: DispatchOptions,
) {
  const origin = requestOrigin(req);
  let cors: Record<string, string> = {};
  try {
    if (!isLoopbackHost(req)) {
      throw new HttpError(403, "host_not_allowed", "The IdP answers loopback hosts only.");
    }
    if (origin && !isLoopbackOrigin(origin)) {
      throw new HttpError(403, "origin_not_allowed", "Only pages served from this machine may call the IdP.");
    }
    const url = requestUrl(req);
    const candidates = routes.filter((r) => r.pattern.test(url.pathname));
    if (candidates.length === 0) throw notFound(req.method, url);
    if (candidates.some((r) => r.access === "browser")) cors = corsHeaders(origin);
    if (candidates.every((r) => r.access === "public")) cors = PUBLIC_CORS_HEADERS;
    if (req.method === "OPTIONS" && Object.keys(cors).length > 0) {
      res.writeHead(204, { ...cors, ...PREFLIGHT_HEADERS });
      res.end();
      return;
    }
    const method = effectiveMethod(req.method, url, candidates);
    const route = candidates.find((r) => r.method === method);
    if (!route) throw new HttpError(405, "method_not_allowed", `${method} is not allowed here`);
    if (route.access === "backend" && !hasSecretKey(req, secretKey)) throw unauthorized();
    // CSRF: a Frontend API call that changes state (every one but GET) must come from the app's
    // page; checked before the handler reads the body or touches the client (no cookie refresh).
    if (route.access === "fapi" && route.method !== "GET") requireFapiOrigin(req, fapiOrigins);
    const params = (route.pattern.exec(url.pathname) ?? []).slice(1).map((p) => decodeParam(p));
    send(res, await route.handle({ req, url, params, origin }), cors);
  } catch (error) {
    if (error instanceof HttpError) {
      send(res, { status: error.status, body: error.body() }, cors);
      return;
    }
    // Session ids are bearer credentials and travel in paths: log the route, not the URL.
    console.error(
      `[idp] ${req.method ?? ""} ${(req.url ?? "").split("?")[0]!.replace(/sess_[A-Za-z0-9]+/g, "sess_…")} failed:`,
      error,
    );
    send(res, { status: 500, body: new HttpError(500, "internal_error", "internal error").body() }, cors);
  }
}

/**
 * 404 for a path no route takes. Under `/__clerk/` (clerk-js through the page's proxy) the
 * `long_message`, which Clerk's components show in their alert, names the call that is not emulated.
 */
function notFound(method: string | undefined, url: URL): HttpError {
  if (!url.pathname.startsWith("/__clerk/")) return new HttpError(404, "resource_not_found", "not found");
  const override = method === "POST" ? url.searchParams.get("_method") : null;
  const call = `${(override ?? method ?? "").toUpperCase().slice(0, 8)} ${url.pathname.slice("/__clerk".length, 200)}`;
  return new HttpError(
    404,
    "resource_not_found",
    "not found",
    `The local Clerk stand-in does not emulate ${call} yet (local/idp/README.md lists what it does).`,
  );
}

const OVERRIDABLE = new Set(["PATCH", "PUT", "DELETE"]);

/**
 * The method a request stands for. clerk-js sends only GET and POST (simple requests), a PATCH,
 * PUT or DELETE as POST with `?_method=`; only Frontend API routes read that override.
 */
function effectiveMethod(method: string | undefined, url: URL, candidates: Route[]): string {
  const override = url.searchParams.get("_method");
  if (method !== "POST" || override === null || !candidates.every((r) => r.access === "fapi")) {
    return method ?? "";
  }
  const wanted = override.toUpperCase();
  if (!OVERRIDABLE.has(wanted)) {
    throw new HttpError(
      400,
      "form_param_value_invalid",
      "`_method` must be PATCH, PUT or DELETE",
      undefined,
      {
        param_name: "_method",
      },
    );
  }
  return wanted;
}

function hasSecretKey(req: IncomingMessage, secretKey: string): boolean {
  // Hashing first makes the comparison constant-time whatever the header's length.
  const digest = (value: string) => createHash("sha256").update(value).digest();
  return timingSafeEqual(digest(req.headers.authorization ?? ""), digest(`Bearer ${secretKey}`));
}

/** The request target as a URL; a target that is not one (`//[`, `http://[::1`) is the client's error. */
function requestUrl(req: IncomingMessage): URL {
  try {
    return new URL(req.url ?? "/", "http://127.0.0.1");
  } catch {
    throw new HttpError(400, "malformed_request_target", "the request target is not a valid URL");
  }
}

function decodeParam(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new HttpError(400, "malformed_path", "malformed path parameter");
  }
}
