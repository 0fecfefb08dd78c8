import * as z from "zod/mini";

/** The SPA's configuration, checked once at start so a typo fails loudly instead of half-working. */
const schema = z.object({
  VITE_CONVEX_URL: z.url(),
  VITE_CLERK_PUBLISHABLE_KEY: z.optional(z.string().check(z.regex(/^(pk_.+)?$/))),
  VITE_LOCAL_IDP_URL: z._default(z.url(), "http://127.0.0.1:3212"),
});

const parsed = schema.parse({
  VITE_CONVEX_URL: import.meta.env.VITE_CONVEX_URL ?? "http://127.0.0.1:3210",
  VITE_CLERK_PUBLISHABLE_KEY: import.meta.env.VITE_CLERK_PUBLISHABLE_KEY,
  VITE_LOCAL_IDP_URL: import.meta.env.VITE_LOCAL_IDP_URL,
});

export const env = { ...parsed, VITE_CLERK_PUBLISHABLE_KEY: parsed.VITE_CLERK_PUBLISHABLE_KEY || undefined };

/** Clerk when a publishable key is configured; otherwise the local identity provider. */
export const authMode: "clerk" | "local" = env.VITE_CLERK_PUBLISHABLE_KEY ? "clerk" : "local";
