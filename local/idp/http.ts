import type { IncomingMessage, ServerResponse } from "node:http";
import type { z } from "zod";

/** Clerk's error body: `{ errors: [{ code, message, long_message, meta }] }`, for FAPI and BAPI alike. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly longMessage: string = message,
    readonly meta: Record<string, unknown> = {},
  ) {
    super(message);
  }

  body(): unknown {
    return {
      errors: [{ code: this.code, message: this.message, long_message: this.longMessage, meta: this.meta }],
    };
  }
}

export const notFound = (what = "resource") =>
  new HttpError(404, "resource_not_found", "not found", `The requested ${what} was not found.`);

export interface JsonResult {
  status: number;
  body: unknown;
  /** Extra headers, e.g. `Retry-After` on a 429. */
  headers?: Record<string, string>;
}

/** A non-JSON answer (an avatar image), sent with its own type and caching. */
export interface RawResult {
  status: number;
  raw: string | Buffer;
  headers: Record<string, string>;
}

export type Result = JsonResult | RawResult;

export const ok = (body: unknown, status = 200): JsonResult => ({ status, body });

/**
 * Writes JSON with `Content-Type: application/json` exactly: `@clerk/backend` parses a body only
 * when the header equals that string (a `; charset=utf-8` suffix makes it return a raw string).
 * Nothing here may be cached: tokens, users and keys all change under the same URLs. `nosniff`:
 * a page on another port may not pull an answer in as a script (`<script src=…/v1/me/sessions/active>`,
 * a bare JSON array) to get at what it cannot fetch; with nosniff a browser runs only JavaScript types.
 */
export function send(res: ServerResponse, result: Result, headers: Record<string, string> = {}): void {
  if ("raw" in result) {
    res.writeHead(result.status, {
      ...headers,
      ...result.headers,
      "Content-Length": Buffer.byteLength(result.raw),
    });
    res.end(result.raw);
    return;
  }
  const text = JSON.stringify(result.body);
  res.writeHead(result.status, {
    ...headers,
    ...result.headers,
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
  });
  res.end(text);
}

const MAX_BODY_BYTES = 64 * 1024;

/**
 * Reads a JSON request body. Empty means `{}` (the Clerk SDK sends no body when a call has no
 * params). A non-empty body must be declared JSON: a browser can only send that cross-origin
 * after a CORS preflight, which shuts out form posts from other sites.
 */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, "request_body_too_large", "request body too large");
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return {};
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") {
    throw new HttpError(415, "unsupported_media_type", "expected Content-Type: application/json");
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, "malformed_request_body", "request body is not valid JSON");
  }
}

/** zod-validates input; a failure is a 400 listing each issue with its path. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
  const summary = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ");
  throw new HttpError(400, "form_param_invalid", "invalid request", summary, { issues });
}
