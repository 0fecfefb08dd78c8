/**
 * Running on the offline stack (`npm start` serves clerk-js itself; production does not): local-only
 * hints are shown, and Clerk's card-entry forms, which need Stripe, are hidden. Read on its own,
 * not through `env.ts`, so components that only ask this need no Clerk key to render (tests).
 */
export const isLocalStack = Boolean(import.meta.env.VITE_CLERK_JS_URL);
