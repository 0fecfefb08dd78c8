import type { IncomingMessage } from "node:http";

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * Only pages served from this machine (the Vite SPA on 127.0.0.1 or localhost, any port) may
 * call the IdP from a browser. Mirroring every origin would let any website a developer visits
 * sign in to the local stack with the published seed passwords.
 */
export function isLoopbackOrigin(origin: string): boolean {
  try {
    const url = new URL(origin);
    return (url.protocol === "http:" || url.protocol === "https:") && LOOPBACK_HOSTS.has(url.hostname);
  } catch {
    return false;
  }
}

/**
 * Rejects requests whose Host is not loopback: a DNS-rebinding page (evil.example resolving to
 * 127.0.0.1) is same-origin with itself, so CORS alone would not stop it, but its Host header
 * still says evil.example.
 */
export function isLoopbackHost(req: IncomingMessage): boolean {
  const host = req.headers.host;
  if (!host) return false;
  return isLoopbackOrigin(`http://${host}`);
}
