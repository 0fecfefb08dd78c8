/**
 * Defaults and environment for the local identity provider. The IdP refuses to start when
 * NODE_ENV=production. Its secrets are not here: they are random per data dir (secrets.ts).
 */
import path from "node:path";
import { defaultDataDir } from "../dataDir.ts";

export const DEFAULT_IDP_PORT = 3212;
export const DEFAULT_SITE_PORT = 3211;

/** The IdP's part of the default data dir (outside the project, like `npm start`'s; see local/dataDir.ts). */
export const DEFAULT_DATA_DIR = path.join(defaultDataDir(path.resolve(import.meta.dirname, "../..")), "idp");
export const DEFAULT_TOKEN_LIFETIME_SECONDS = 60;
export const WEBHOOK_PATH = "/clerk-users-webhook";

/**
 * svix's schedule (immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h) scaled down for a dev
 * loop: the delay before attempt n+1 is delays[n-1], the last entry repeating up to maxAttempts.
 * With these defaults a message is retried for about six minutes before it is dropped.
 */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [500, 1_000, 2_000, 5_000, 10_000, 30_000, 60_000];
export const DEFAULT_MAX_ATTEMPTS = 12;
/** svix gives an endpoint 15 s to answer before counting the attempt as failed. */
export const DEFAULT_DELIVERY_TIMEOUT_MS = 15_000;

export const SEED_PASSWORD = "gatehouse-dev";

export interface SeedAccount {
  email: string;
  firstName: string;
  lastName: string;
  role: "user" | "admin";
  /** `public_metadata.plan`, as before billing (the Convex side decides how it and billing combine). */
  plan: "free_user" | "pro";
  /** `public_metadata.planOverride`: an administrator's grant of a plan, not a subscription. */
  planOverride?: "pro";
  /** A Clerk Billing subscription, paid with the default test card; without it the account is on Free. */
  subscription?: { plan: "pro"; period: "month" | "annual" };
}

/** The accounts API.md promises; `npm start` and the e2e suites sign in as these. */
export const SEEDED_ACCOUNTS: readonly SeedAccount[] = [
  {
    email: "admin@gatehouse.test",
    firstName: "Ada",
    lastName: "Admin",
    role: "admin",
    plan: "pro",
    planOverride: "pro",
  },
  {
    email: "pro@gatehouse.test",
    firstName: "Pat",
    lastName: "Pro",
    role: "user",
    // Pro by the subscription bought at seeding; the metadata starts as sign-up leaves it, and
    // Gatehouse writes `plan: "pro"` there itself (ADR 009), so the log reads Free → Pro once.
    plan: "free_user",
    subscription: { plan: "pro", period: "annual" },
  },
  { email: "free@gatehouse.test", firstName: "Frankie", lastName: "Free", role: "user", plan: "free_user" },
];

/** Parses a TCP port from the environment; undefined when unset, an error when malformed. */
export function parsePort(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`${name} must be a port number (0-65535), got "${value}"`);
  }
  return port;
}

/** The backend's webhook URL on the given site port (loopback, like every part of the stack). */
export function webhookUrlForSitePort(port: number): string {
  return `http://127.0.0.1:${port}${WEBHOOK_PATH}`;
}
