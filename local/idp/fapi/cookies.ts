import type { IncomingMessage } from "node:http";

/** Clerk's name for the Frontend API's client cookie; clerk-js never reads it (it is httpOnly). */
export const CLIENT_COOKIE = "__client";
export const CLIENT_COOKIE_MAX_AGE_SECONDS = 30 * 24 * 60 * 60;

/** The value of one cookie of the request, or undefined (malformed pairs are skipped). */
export function readCookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const pair of header.split(";")) {
    const eq = pair.indexOf("=");
    if (eq < 0 || pair.slice(0, eq).trim() !== name) continue;
    const value = pair.slice(eq + 1).trim();
    return /^[A-Za-z0-9_-]{1,200}$/.test(value) ? value : undefined;
  }
  return undefined;
}

/**
 * `Set-Cookie` for the client: httpOnly (page scripts never see it), `SameSite=Lax` (not sent on
 * other sites' subrequests), `Path=/` (the FAPI sits under a proxy prefix of the page's origin).
 * No `Secure`: the offline stack is plain http on loopback.
 */
export function clientCookie(token: string): string {
  return `${CLIENT_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${CLIENT_COOKIE_MAX_AGE_SECONDS}`;
}

export function clearedClientCookie(): string {
  return `${CLIENT_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`;
}
