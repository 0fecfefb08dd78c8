import * as z from "zod/mini";

/**
 * The SPA's configuration, checked once at start so a typo fails loudly instead of half-working.
 * Production sets the Convex URL and Clerk's publishable key. Offline, `npm start` also sets where
 * clerk-js is served from and the same-origin path that proxies Clerk's Frontend API to the local IdP.
 */
const schema = z.object({
  VITE_CONVEX_URL: z.url(),
  VITE_CLERK_PUBLISHABLE_KEY: z.string().check(z.regex(/^pk_(test|live)_[A-Za-z0-9+/=]+$/)),
  VITE_CLERK_PROXY_URL: z.optional(z.string().check(z.regex(/^(\/|https?:\/\/)/))),
  VITE_CLERK_JS_URL: z.optional(z.string().check(z.regex(/^(\/|https?:\/\/)/))),
});

const optional = (value: string | undefined) => value || undefined;

export const env = schema.parse({
  VITE_CONVEX_URL: import.meta.env.VITE_CONVEX_URL ?? "http://127.0.0.1:3210",
  VITE_CLERK_PUBLISHABLE_KEY: import.meta.env.VITE_CLERK_PUBLISHABLE_KEY,
  VITE_CLERK_PROXY_URL: optional(import.meta.env.VITE_CLERK_PROXY_URL),
  VITE_CLERK_JS_URL: optional(import.meta.env.VITE_CLERK_JS_URL),
});
