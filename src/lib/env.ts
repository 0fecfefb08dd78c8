import { z } from "zod";

/** The SPA's configuration, checked once at start so a typo fails loudly instead of half-working. */
const schema = z.object({
  VITE_CONVEX_URL: z.url({ message: "VITE_CONVEX_URL must be the Convex deployment URL" }),
  VITE_CLERK_PUBLISHABLE_KEY: z
    .string()
    .startsWith("pk_")
    .optional()
    .or(z.literal("").transform(() => undefined)),
  VITE_LOCAL_IDP_URL: z.url().default("http://127.0.0.1:3212"),
});

export const env = schema.parse({
  VITE_CONVEX_URL: import.meta.env.VITE_CONVEX_URL ?? "http://127.0.0.1:3210",
  VITE_CLERK_PUBLISHABLE_KEY: import.meta.env.VITE_CLERK_PUBLISHABLE_KEY,
  VITE_LOCAL_IDP_URL: import.meta.env.VITE_LOCAL_IDP_URL,
});

/** Clerk when a publishable key is configured; otherwise the local identity provider. */
export const authMode: "clerk" | "local" = env.VITE_CLERK_PUBLISHABLE_KEY ? "clerk" : "local";
