/**
 * Reading request bodies within a limit and writing JSON answers, for the HTTP function API and
 * http actions. An answer carries CORS headers only for a request whose Origin the origin policy
 * allowed (origins.ts), and then mirrors that origin with credentials.
 */
import type http from "node:http";

/** Requests whose Origin is allowed (origins.ts) and may be mirrored; decided once, in routes.ts. */
const mirrorOrigin = new WeakSet<http.IncomingMessage>();

/** Marks a request whose Origin the policy allows: its answers carry CORS headers for it. */
export function allowMirroring(req: http.IncomingMessage): void {
  mirrorOrigin.add(req);
}

export function corsHeaders(req: http.IncomingMessage): Record<string, string> {
  const origin = req.headers.origin;
  return origin && mirrorOrigin.has(req)
    ? { "access-control-allow-origin": origin, "access-control-allow-credentials": "true", vary: "origin" }
    : {};
}

export function sendJson(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  status: number,
  body: unknown,
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", ...corsHeaders(req) });
  res.end(text);
}

/** A request body over its limit: answered 413 without buffering the rest. */
export class PayloadTooLarge extends Error {
  readonly limit: number;
  constructor(limit: number) {
    super(`The request body is larger than the ${limit}-byte limit`);
    this.limit = limit;
  }
}

/**
 * The request body, refusing (PayloadTooLarge) a declared Content-Length over `limit` before
 * reading any of it, and a streamed body as soon as it passes `limit`; what follows is discarded.
 */
export function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > limit) {
      reject(new PayloadTooLarge(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limit) {
        failed = true;
        chunks.length = 0;
        reject(new PayloadTooLarge(limit));
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** 413, and the connection closes after it so an unread remainder is not parsed as a request. */
export function sendTooLarge(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  error: PayloadTooLarge,
): void {
  res.setHeader("connection", "close");
  sendJson(req, res, 413, { code: "PayloadTooLarge", message: error.message });
}
