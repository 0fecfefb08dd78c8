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

export const PREFLIGHT_HEADERS = {
  "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
  "Access-Control-Allow-Headers": "Content-Type",
  "Access-Control-Max-Age": "600",
};
