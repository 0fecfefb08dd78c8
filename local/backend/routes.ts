/**
 * Which handler answers a request, behind the guards every request passes first:
 *
 * - the Host header must name a loopback host: a DNS-rebinding page is same-origin with itself,
 *   but its Host still names its own domain;
 * - an allowed Origin (origins.ts) is marked for CORS mirroring, once, here;
 * - requests that arrive while the functions are still loading wait for them (`ready`), so a
 *   reconnecting client is not left hanging on a half-started server;
 * - a bug in a handler costs that one request (a 500), never the process.
 *
 *   client port:  /api/… (the function API; another Origin gets 403), /http/… (http actions),
 *                 GET /version, /instance_name
 *   site port:    every path is an http action
 */
import type http from "node:http";
import type { Runtime } from "./engine.ts";
import { handleApi } from "./functionApi.ts";
import { handleHttpAction } from "./httpActions.ts";
import { allowMirroring, PayloadTooLarge, sendJson, sendTooLarge } from "./httpMessages.ts";
import { ALLOWED_ORIGINS_ENV, type OriginPolicy } from "./origins.ts";
import { CONVEX_VERSION, parseRequestTarget } from "./protocol.ts";
import { isLoopbackHost } from "../loopback.ts";

/**
 * What the handlers serve with. The servers listen before the functions load (the functions'
 * environment needs the bound URLs), so `runtime` and the URLs are set later, before `ready`
 * resolves; handlers only run after it.
 */
export class Serving {
  readonly ready: Promise<void>;
  readonly origins: OriginPolicy;
  runtime!: Runtime;
  url = "";
  siteUrl = "";

  constructor(ready: Promise<void>, origins: OriginPolicy) {
    this.ready = ready;
    this.origins = origins;
  }
}

/** `handler` behind the guards every request passes (see the top of this file). */
function guarded(
  serving: Serving,
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>,
) {
  return (req: http.IncomingMessage, res: http.ServerResponse) => {
    // A DNS-rebinding page is same-origin with itself, but its Host header still names its own domain.
    if (!isLoopbackHost(req)) {
      sendJson(req, res, 403, {
        code: "Forbidden",
        message: "This local backend only serves loopback hosts",
      });
      return;
    }
    if (req.headers.origin !== undefined && serving.origins.allows(req.headers.origin)) allowMirroring(req);
    serving.ready
      .then(() => handler(req, res))
      .catch((error: unknown) => {
        // A bug in a handler costs this one request, never the process.
        try {
          if (error instanceof PayloadTooLarge && !res.headersSent) return sendTooLarge(req, res, error);
          console.error(`[local backend] ${req.method ?? "?"} request failed:`, error);
          if (!res.headersSent)
            sendJson(req, res, 500, { code: "InternalServerError", message: String(error) });
          else res.destroy();
        } catch {
          res.destroy();
        }
      });
  };
}

function foreignOrigin(req: http.IncomingMessage, res: http.ServerResponse): void {
  sendJson(req, res, 403, {
    code: "Forbidden",
    message: `Origin ${req.headers.origin ?? ""} may not call this local backend (allowed: loopback pages and ${ALLOWED_ORIGINS_ENV})`,
  });
}

function badTarget(req: http.IncomingMessage, res: http.ServerResponse): void {
  sendJson(req, res, 400, { code: "BadRequest", message: "The request target is not a valid URL path" });
}

/** The client port: the function API, http actions under /http/, and the deployment's name and version. */
export function routeClientPort(server: http.Server, serving: Serving): void {
  server.on(
    "request",
    guarded(serving, async (req, res) => {
      const target = parseRequestTarget(req.url ?? "/", serving.url);
      if (!target) return badTarget(req, res);
      const pathname = target.pathname;
      if (pathname.startsWith("/api/") || pathname === "/api") {
        // http actions below are left to the app's own CORS policy, as on Convex.
        if (!serving.origins.allows(req.headers.origin)) return foreignOrigin(req, res);
        return handleApi(serving.runtime, req, res, pathname);
      }
      if (pathname === "/http" || pathname.startsWith("/http/")) {
        return handleHttpAction(
          serving.runtime,
          serving.siteUrl,
          req,
          res,
          pathname.slice("/http".length) || "/",
          target.search,
        );
      }
      if (pathname === "/version" && (req.method === "GET" || req.method === "HEAD")) {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end(req.method === "HEAD" ? undefined : `gatehouse-local-backend convex-${CONVEX_VERSION}`);
        return;
      }
      if (pathname === "/instance_name") {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end("gatehouse-local");
        return;
      }
      sendJson(req, res, 404, {
        code: "NotFound",
        message: `No route for ${req.method ?? "GET"} ${pathname}`,
      });
    }),
  );
}

/** The site port: every request is an http action. */
export function routeSitePort(server: http.Server, serving: Serving): void {
  server.on(
    "request",
    guarded(serving, async (req, res) => {
      const target = parseRequestTarget(req.url ?? "/", serving.siteUrl);
      if (!target) return badTarget(req, res);
      return handleHttpAction(serving.runtime, serving.siteUrl, req, res, target.pathname, target.search);
    }),
  );
}
