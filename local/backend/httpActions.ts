/**
 * Http actions (`convex/http.ts`), served on the site port and under /http/ on the client port:
 * the Node request becomes a fetch `Request` for the action, its `Response` goes back as it is
 * (all Set-Cookie headers kept). The app's own CORS applies, as on Convex. An invalid
 * Authorization header does not refuse the request; the action's `getUserIdentity()` rejects.
 */
import type http from "node:http";
import { AuthFailure, type Identity } from "./auth.ts";
import { identityFromHeader } from "./authorizationHeader.ts";
import type { Runtime } from "./engine.ts";
import { PayloadTooLarge, readBody, sendJson, sendTooLarge } from "./httpMessages.ts";
import { MAX_HTTP_ACTION_BODY_BYTES } from "./limits.ts";

/** Methods Node's parser accepts but undici's `Request` refuses (fetch spec "forbidden methods"). */
const FETCH_FORBIDDEN_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);

/**
 * Runs the http action for `actionPath` (`search` is the query string); the action sees
 * `request.url` as `siteUrl` + path + query, as on Convex's site URL.
 */
export async function handleHttpAction(
  runtime: Runtime,
  siteUrl: string,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  actionPath: string,
  search: string,
): Promise<void> {
  const method = (req.method ?? "GET").toUpperCase();
  // Node parses these, but a fetch Request (what an http action receives) cannot carry them.
  if (FETCH_FORBIDDEN_METHODS.has(method)) {
    sendJson(req, res, 405, { code: "MethodNotAllowed", message: `${method} is not supported` });
    return;
  }
  let body: Buffer | undefined;
  try {
    body =
      method === "GET" || method === "HEAD" ? undefined : await readBody(req, MAX_HTTP_ACTION_BODY_BYTES);
  } catch (error) {
    if (error instanceof PayloadTooLarge) return sendTooLarge(req, res, error);
    throw error;
  }
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || ["connection", "keep-alive", "transfer-encoding", "upgrade"].includes(name))
      continue;
    try {
      if (Array.isArray(value)) for (const v of value) headers.append(name, v);
      else headers.set(name, value);
    } catch {
      // Skip headers undici refuses.
    }
  }
  const request = new Request(`${siteUrl}${actionPath}${search}`, {
    method,
    headers,
    ...(body !== undefined ? { body: new Uint8Array(body) } : {}),
  });
  let auth: Identity | null | AuthFailure;
  try {
    auth = await identityFromHeader(runtime.verifier, req.headers.authorization);
  } catch (error) {
    auth = error instanceof AuthFailure ? error : new AuthFailure("Unauthenticated", String(error));
  }
  const response = await runtime.runHttpAction(request, actionPath, auth);
  runtime.flush();
  const outHeaders: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name === "set-cookie") return;
    outHeaders[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) outHeaders["set-cookie"] = cookies;
  const payload =
    method === "HEAD" || response.body === null ? null : Buffer.from(await response.arrayBuffer());
  res.writeHead(response.status, response.statusText || undefined, outHeaders);
  res.end(payload ?? undefined);
}
