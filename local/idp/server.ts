import { rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { homedir } from "node:os";
import { resolve } from "node:path";
import { Accounts } from "./accounts.ts";
import { Billing } from "./billing/billing.ts";
import {
  DEFAULT_DATA_DIR,
  DEFAULT_DELIVERY_TIMEOUT_MS,
  DEFAULT_IDP_PORT,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_RETRY_DELAYS_MS,
  DEFAULT_TOKEN_LIFETIME_SECONDS,
  parsePort,
} from "./config.ts";
import { dispatch } from "./dispatch.ts";
import { Fapi, fapiRoutes } from "./fapi/index.ts";
import { fapiOriginPolicy } from "./fapi/originCheck.ts";
import { ImageFiles } from "./images.ts";
import { loadOrCreateSigningKey } from "./keys.ts";
import { avatarRoutes } from "./routes/avatars.ts";
import { backendApiRoutes } from "./routes/backendApi.ts";
import { billingBackendApiRoutes } from "./routes/billingBackendApi.ts";
import { devApiRoutes } from "./routes/devApi.ts";
import { devBillingRoutes } from "./routes/devBilling.ts";
import type { Route } from "./routes/route.ts";
import { wellKnownRoutes } from "./routes/wellKnown.ts";
import { loadOrCreateDevSecrets } from "./secrets.ts";
import { seedAccounts } from "./seed.ts";
import { Store } from "./store.ts";
import { resolveSignInLimits, type SignInLimits } from "./throttle.ts";
import { WebhookSender, type DeliveryStats, type Logger } from "./webhooks/delivery.ts";
import { createSigner } from "./webhooks/sign.ts";

export interface IdpOptions {
  /** 0 picks a free port. Default: LOCAL_IDP_PORT, else 3212. The host is always 127.0.0.1. */
  port?: number;
  /** Keys, users, sessions, the webhook outbox and the dev secrets. Default DEFAULT_DATA_DIR (outside the project). */
  dataDir?: string;
  /** Wipe dataDir first. */
  reset?: boolean;
  /** Create the seeded accounts that are missing (each sends `user.created`). */
  seed?: boolean;
  /** The Backend API key. Default: CLERK_SECRET_KEY, else the data dir's own (`secrets.json`, random on first start). */
  secretKey?: string;
  /** Where `user.*` webhooks go; undefined records no events at all. */
  webhookUrl?: string;
  /** svix signing secret (`whsec_…`). Default: CLERK_WEBHOOK_SECRET, else the data dir's own (`secrets.json`). */
  webhookSecret?: string;
  /** Session token lifetime. Default 60, like Clerk. */
  tokenLifetimeSeconds?: number;
  /** The clock for user timestamps, sessions and token times (ms). Default Date.now. */
  now?: () => number;
  /** Delay before each retry; the last entry repeats. Default DEFAULT_RETRY_DELAYS_MS. */
  retryDelaysMs?: readonly number[];
  /** Attempts per webhook message before it is dropped. Default 12. */
  maxAttempts?: number;
  /** How long one delivery attempt may take. Default 15 s. */
  deliveryTimeoutMs?: number;
  /** Where delivery failures and sign-in lockouts are reported. Default console. */
  logger?: Logger;
  /** Brute-force limits on sign-in (per email and per client); unset fields take DEFAULT_SIGN_IN_LIMITS. */
  signInLimits?: Partial<SignInLimits>;
  /**
   * The exact origins of the app whose page calls the Frontend API (through its `/__clerk` proxy),
   * e.g. `["http://127.0.0.1:5173", "http://localhost:5173"]`: only these may change state (every
   * FAPI call but GET), anything else, a missing Origin and `null` included, is 403 `origin_invalid`.
   * Unset (tests, the standalone CLI): any loopback origin, still never none or `null`.
   */
  fapiOrigins?: readonly string[];
}

export interface Idp {
  /** `http://127.0.0.1:<port>`: the issuer (`iss`, `CLERK_JWT_ISSUER_DOMAIN`) and the Backend API's `apiUrl`. */
  url: string;
  port: number;
  dataDir: string;
  secretKey: string;
  webhookSecret: string;
  /** The current webhook target. */
  readonly webhookUrl: string | undefined;
  /** Points webhooks somewhere else (or nowhere) from now on; queued messages follow. */
  setWebhookUrl(url: string | undefined): void;
  /** Creates the missing seeded accounts (what `seed: true` does at start); returns the emails created. */
  seed(): Promise<string[]>;
  /** Resolves when every queued webhook has been delivered (or given up); rejects after timeoutMs. */
  whenDelivered(timeoutMs?: number): Promise<void>;
  pendingDeliveries(): number;
  deliveryStats(): DeliveryStats;
  /** Stops listening and sending; undelivered webhooks stay queued in dataDir for the next start. */
  close(): Promise<void>;
}

/** Starts the local Clerk stand-in. Dev and tests only: it refuses to run under NODE_ENV=production. */
export async function startIdp(options: IdpOptions = {}): Promise<Idp> {
  if (process.env.NODE_ENV === "production") {
    throw new Error(
      "The local identity provider is for development only; it refuses to start with NODE_ENV=production",
    );
  }
  const env = process.env;
  const port = options.port ?? parsePort(env.LOCAL_IDP_PORT, "LOCAL_IDP_PORT") ?? DEFAULT_IDP_PORT;
  const dataDir = resolve(options.dataDir ?? DEFAULT_DATA_DIR);
  const givenSecretKey = options.secretKey ?? (env.CLERK_SECRET_KEY || undefined);
  const givenWebhookSecret = options.webhookSecret ?? (env.CLERK_WEBHOOK_SECRET || undefined);
  const tokenLifetimeSeconds = options.tokenLifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS;
  // Convex stops refreshing a token whose exp - iat is 2 s or less.
  if (!Number.isInteger(tokenLifetimeSeconds) || tokenLifetimeSeconds <= 2) {
    throw new Error(`tokenLifetimeSeconds must be an integer above 2, got ${tokenLifetimeSeconds}`);
  }
  const now = options.now ?? Date.now;
  const signInLimits = resolveSignInLimits(options.signInLimits); // a bad limit fails here, before listening
  const fapiOrigins = fapiOriginPolicy(options.fapiOrigins); // so does a malformed origin
  // A malformed secret fails here, before anything touches disk.
  if (givenWebhookSecret !== undefined) createSigner(givenWebhookSecret);

  if (options.reset) wipe(dataDir);
  const stored =
    givenSecretKey === undefined || givenWebhookSecret === undefined
      ? loadOrCreateDevSecrets(dataDir)
      : undefined;
  const secretKey = givenSecretKey ?? stored!.secretKey;
  const webhookSecret = givenWebhookSecret ?? stored!.webhookSecret;
  const sign = createSigner(webhookSecret);
  const key = await loadOrCreateSigningKey(dataDir);
  const store = Store.open(dataDir, now());
  const sender = new WebhookSender(store, {
    url: options.webhookUrl,
    sign,
    retryDelaysMs: options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS,
    maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    timeoutMs: options.deliveryTimeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS,
    logger: options.logger ?? console,
  });

  // Routes need the issuer, which needs the port, which is known only once listening.
  let routes: Route[] = [];
  const server = createServer((req, res) => {
    void dispatch(req, res, routes, { secretKey, fapiOrigins });
  });
  const actualPort = await listen(server, port);
  const url = `http://127.0.0.1:${actualPort}`;
  const images = new ImageFiles(dataDir);
  const billing = new Billing({ store, now, webhooksEnabled: () => sender.enabled });
  // Users of a data dir from before billing get their payer (and its webhooks) now.
  billing.backfill();
  const accounts = new Accounts({
    store,
    key,
    issuer: url,
    now,
    tokenLifetimeSeconds,
    webhooksEnabled: () => sender.enabled,
    signInLimits,
    logger: options.logger ?? console,
    images,
    billing,
  });
  routes = [
    ...wellKnownRoutes(url, key),
    ...devApiRoutes(accounts),
    ...avatarRoutes(accounts, images),
    ...backendApiRoutes(accounts, key),
    ...billingBackendApiRoutes(accounts, billing, store),
    ...devBillingRoutes(billing, store),
    ...fapiRoutes(
      new Fapi({
        accounts,
        store,
        key,
        issuer: url,
        now,
        tokenLifetimeSeconds,
        logger: options.logger ?? console,
        images,
        billing,
      }),
    ),
  ];

  let closing: Promise<void> | undefined;
  const idp: Idp = {
    url,
    port: actualPort,
    dataDir,
    secretKey,
    webhookSecret,
    get webhookUrl() {
      return sender.url;
    },
    setWebhookUrl: (target) => sender.setUrl(target),
    seed: () => seedAccounts(accounts, billing),
    whenDelivered: (timeoutMs) => sender.whenDelivered(timeoutMs),
    pendingDeliveries: () => sender.stats().pending,
    deliveryStats: () => sender.stats(),
    close: () => {
      closing ??= Promise.all([
        new Promise<void>((done) => {
          server.close(() => done());
          server.closeAllConnections();
        }),
        sender.close(),
      ]).then(() => undefined);
      return closing;
    },
  };

  sender.wake(); // resume what a previous run left undelivered
  if (options.seed) {
    try {
      await seedAccounts(accounts, billing);
    } catch (error) {
      await idp.close();
      throw error;
    }
  }
  return idp;
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolvePort, reject) => {
    server.once("error", reject);
    // Loopback only: the IdP hands out tokens for published seed passwords.
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolvePort((server.address() as AddressInfo).port);
    });
  });
}

/** --reset deletes a directory tree, so refuse the ones a typo could point at. */
function wipe(dataDir: string): void {
  if ([resolve("/"), homedir(), process.cwd()].includes(dataDir)) {
    throw new Error(`Refusing to reset ${dataDir}: point dataDir at the IdP's own directory`);
  }
  rmSync(dataDir, { recursive: true, force: true });
}
