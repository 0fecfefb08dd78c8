/**
 * How the SPA's real Clerk SDK is pointed at the local stack: a publishable key for a placeholder
 * Frontend API host (never contacted), every Frontend API call sent to a same-origin path that the
 * dev server proxies to the local IdP, and clerk-js itself served from node_modules.
 */
import { CLERK_JS_VERSION } from "../../src/lib/clerkJs.ts";

/** `.example` is reserved (RFC 2606): the host in the key can never resolve to anyone's server. */
export const OFFLINE_FRONTEND_API = "clerk.offline.example";

/**
 * `pk_live_` + base64(`<frontend api>$`), Clerk's key format. A production-type key because a
 * development key makes clerk-js open a dev-browser handshake and print a development banner;
 * the emulation serves the production flow (the `__client` cookie) instead.
 */
export const OFFLINE_PUBLISHABLE_KEY = `pk_live_${Buffer.from(`${OFFLINE_FRONTEND_API}$`).toString("base64")}`;

/** clerk-js calls `<proxyUrl>/v1/…`; the IdP answers both `/v1/…` and `/__clerk/v1/…`. */
export const CLERK_PROXY_PATH = "/__clerk";

/** Versioned, so a browser never runs a cached clerk-js other than the pinned one. */
export const CLERK_JS_BASE_PATH = `/clerkjs/${CLERK_JS_VERSION}/`;
export const CLERK_JS_SCRIPT_PATH = `${CLERK_JS_BASE_PATH}clerk.browser.js`;
