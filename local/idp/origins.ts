import type { IncomingMessage } from "node:http";

export { isLoopbackHost, isLoopbackOrigin } from "../loopback.ts";
import { isLoopbackOrigin } from "../loopback.ts";

export function requestOrigin(req: IncomingMessage): string | undefined {
  const origin = req.headers.origin;
  return origin && origin !== "null" ? origin : undefined;
}

/** CORS headers for the browser-facing routes: the caller's origin mirrored, if it is loopback. */
export function corsHeaders(origin: string | undefined): Record<string, string> {
  if (!origin || !isLoopbackOrigin(origin)) return {};
  return { "Access-Control-Allow-Origin": origin, Vary: "Origin" };
}

/** Public images: readable by any page, without credentials, as Clerk's image CDN serves them. */
export const PUBLIC_CORS_HEADERS: Record<string, string> = {
  "Access-Control-Allow-Origin": "*",
  "Cross-Origin-Resource-Policy": "cross-origin",
};

export const PREFLIGHT_HEADERS = {
  "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
  "Access-Control-Allow-Headers": "Content-Type",
  "Access-Control-Max-Age": "600",
};
