/**
 * Convex's HTTP function API, as `ConvexHttpClient` and `fetch` callers use it: /api/query,
 * /api/query_at_ts, /api/mutation, /api/action, /api/function (any kind), /api/query_ts and
 * /api/debug_event (the method is not checked); OPTIONS is the CORS preflight for all of /api/. Answers are `{status, value | errorMessage,
 * errorData?, logLines?}`; with `format: "json"` values are plain JSON (int64 as string, bytes as
 * base64). Each answer leaves only after the call's writes are durable.
 */
import type http from "node:http";
import { jsonToConvex, type JSONValue, type Value } from "convex/values";
import { AuthFailure, type Identity } from "./auth.ts";
import { identityFromHeader } from "./authorizationHeader.ts";
import type { Runtime } from "./engine.ts";
import { corsHeaders, PayloadTooLarge, readBody, sendJson, sendTooLarge } from "./httpMessages.ts";
import { MAX_API_BODY_BYTES } from "./limits.ts";
import { encodeTs, type FunctionResult, type UdfType } from "./protocol.ts";

/** Convex JSON → "clean" JSON for `format: "json"` (int64 as string, bytes as base64). */
function toCleanJson(value: Value): JSONValue {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof ArrayBuffer) return Buffer.from(value).toString("base64");
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  if (Array.isArray(value)) return value.map((v) => toCleanJson(v));
  if (value !== null && typeof value === "object") {
    const out: Record<string, JSONValue> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toCleanJson(v);
    return out;
  }
  return value as JSONValue;
}

function respondResult(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  result: FunctionResult,
  format: string | undefined,
): void {
  if (result.ok) {
    const value = format === "json" ? toCleanJson(jsonToConvex(result.value)) : result.value;
    sendJson(req, res, 200, {
      status: "success",
      value,
      ...(result.logLines.length ? { logLines: result.logLines } : {}),
    });
  } else {
    sendJson(req, res, 200, {
      status: "error",
      errorMessage: result.message,
      ...(result.errorData !== undefined
        ? { errorData: format === "json" ? toCleanJson(jsonToConvex(result.errorData)) : result.errorData }
        : {}),
      ...(result.logLines.length ? { logLines: result.logLines } : {}),
    });
  }
}

async function handleFunctionCall(
  runtime: Runtime,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  kind: UdfType | "any",
): Promise<void> {
  let identity: Identity | null;
  try {
    identity = await identityFromHeader(runtime.verifier, req.headers.authorization);
  } catch (error) {
    const code = error instanceof AuthFailure ? error.code : "Unauthenticated";
    const status =
      code === "InvalidAuthHeader" && !/^Bearer/i.test(req.headers.authorization ?? "") ? 400 : 401;
    sendJson(req, res, status, { code, message: error instanceof Error ? error.message : String(error) });
    return;
  }
  let body: { path?: unknown; args?: unknown; format?: unknown; componentPath?: unknown };
  try {
    body = JSON.parse((await readBody(req, MAX_API_BODY_BYTES)).toString("utf8") || "{}") as typeof body;
  } catch (error) {
    if (error instanceof PayloadTooLarge) return sendTooLarge(req, res, error);
    sendJson(req, res, 400, { code: "BadJsonBody", message: "Request body is not valid JSON" });
    return;
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    sendJson(req, res, 400, { code: "BadJsonBody", message: "Request body must be a JSON object" });
    return;
  }
  if (typeof body.path !== "string") {
    sendJson(req, res, 400, { code: "BadRequest", message: "Missing `path`" });
    return;
  }
  if (typeof body.componentPath === "string" && body.componentPath !== "") {
    sendJson(req, res, 401, {
      code: "Unauthenticated",
      message: "Calling component functions requires admin auth",
    });
    return;
  }
  const rawArgs = body.args === undefined ? {} : body.args;
  const args = (Array.isArray(rawArgs) ? (rawArgs[0] ?? {}) : rawArgs) as JSONValue;
  const format = typeof body.format === "string" ? body.format : undefined;
  const result = await runtime.run(kind, body.path, args, identity);
  runtime.flush();
  respondResult(req, res, result, format);
}

/** Answers a request under /api/ (its Origin already checked). */
export async function handleApi(
  runtime: Runtime,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  pathname: string,
): Promise<void> {
  if (req.method === "OPTIONS") {
    res.writeHead(204, {
      ...corsHeaders(req),
      "access-control-allow-methods": "GET, POST, OPTIONS, PATCH, DELETE, PUT",
      "access-control-allow-headers": req.headers["access-control-request-headers"] ?? "*",
      "access-control-max-age": "86400",
    });
    res.end();
    return;
  }
  switch (pathname) {
    case "/api/query":
    case "/api/query_at_ts":
      return handleFunctionCall(runtime, req, res, "query");
    case "/api/mutation":
      return handleFunctionCall(runtime, req, res, "mutation");
    case "/api/action":
      return handleFunctionCall(runtime, req, res, "action");
    case "/api/function":
      return handleFunctionCall(runtime, req, res, "any");
    case "/api/query_ts":
      sendJson(req, res, 200, { ts: encodeTs(runtime.clock.current) });
      return;
    case "/api/debug_event":
      await readBody(req, MAX_API_BODY_BYTES);
      sendJson(req, res, 200, {});
      return;
    default:
      sendJson(req, res, 404, {
        code: "NotFound",
        message: `No route for ${req.method ?? "GET"} ${pathname}`,
      });
  }
}
