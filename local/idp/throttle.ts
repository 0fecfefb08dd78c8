/**
 * Brute-force protection for sign-in, after Clerk's "attack protection": per account, a backoff
 * that doubles after a few consecutive failures and a lockout after many (Clerk: 100 failures
 * lock the account for an hour, refused with `user_locked` and `meta.lockout_expires_in_seconds`);
 * per client, a token bucket of attempts (Clerk rate-limits sign-in attempts per IP with 429,
 * `too_many_requests` and `Retry-After`).
 *
 * Accounts are tracked by the email typed, whether or not a user has it, so an unknown email is
 * throttled exactly like a real one and the answers never tell which accounts exist. Every attempt
 * is charged before the password is checked (a failure until proven otherwise), so concurrent
 * guesses cannot slip past a limit while scrypt runs; a success gives the charge back.
 */
import { HttpError, type JsonResult } from "./http.ts";
import type { Logger } from "./webhooks/delivery.ts";

export interface SignInLimits {
  /** Consecutive failures for one email after which each further attempt has to wait. */
  backoffAfterFailures: number;
  /** The first wait; it doubles with every further failure. */
  backoffBaseMs: number;
  /** The longest wait between attempts before the lockout. */
  backoffMaxMs: number;
  /** Failures for one email that lock it (Clerk's "maximum attempt limit"). */
  lockoutAfterFailures: number;
  /** How long a lockout lasts (Clerk's "lockout duration"). */
  lockoutMs: number;
  /** An email's failures are forgotten after this long without another one. */
  failureWindowMs: number;
  /** Attempts one client may make in a burst (the token bucket's capacity). */
  clientBurst: number;
  /** The bucket gains one attempt every this many ms. */
  clientRefillMs: number;
  /** Most emails tracked at once; beyond it the least recently tried are forgotten. */
  maxTrackedEmails: number;
  /** Most clients tracked at once; beyond it the least recently seen are forgotten. */
  maxTrackedClients: number;
}

/**
 * Clerk's lockout (100 failures, 1 hour) with a backoff in front of it: a developer who mistypes
 * a few times never waits, a script is down to one guess a minute after 11 failures and needs
 * about 90 minutes to reach the lockout. The client bucket (30, then one every 2 s) only drains on
 * failures, so test suites and the e2e run, all from 127.0.0.1, can sign in as often as they like.
 */
export const DEFAULT_SIGN_IN_LIMITS: Readonly<SignInLimits> = {
  backoffAfterFailures: 5,
  backoffBaseMs: 1_000,
  backoffMaxMs: 60_000,
  lockoutAfterFailures: 100,
  lockoutMs: 60 * 60 * 1_000,
  failureWindowMs: 60 * 60 * 1_000,
  clientBurst: 30,
  clientRefillMs: 2_000,
  maxTrackedEmails: 10_000,
  maxTrackedClients: 1_000,
};

/** Why an attempt was refused, and for how long further attempts will be. */
export interface Refusal {
  reason: "account_backoff" | "account_locked" | "client";
  retryAfterMs: number;
}

/** An admitted attempt: report how the password check went. */
export interface SignInAttempt {
  succeeded(): void;
  failed(): void;
}

export type Admission = { admitted: true; attempt: SignInAttempt } | { admitted: false; refusal: Refusal };

interface EmailEntry {
  failures: number;
  lastFailureAt: number;
  /** No attempt before this time (0: none pending). */
  blockedUntil: number;
  /** The block is the lockout, not a backoff step. */
  locked: boolean;
}

interface ClientEntry {
  tokens: number;
  updatedAt: number;
  /** The exhaustion has been logged (once per time the bucket runs dry). */
  logged: boolean;
}

/** How often expired entries are swept out, at most (lazily, on an attempt: no timers). */
const SWEEP_INTERVAL_MS = 60_000;

export class SignInThrottle {
  readonly limits: Readonly<SignInLimits>;
  /** Map order is recency order: an entry is re-inserted whenever it is touched. */
  private readonly emails = new Map<string, EmailEntry>();
  private readonly clients = new Map<string, ClientEntry>();
  private lastSweep: number;

  constructor(
    limits: Partial<SignInLimits> = {},
    private readonly now: () => number = Date.now,
    private readonly logger: Pick<Logger, "warn"> = console,
  ) {
    this.limits = resolveSignInLimits(limits);
    this.lastSweep = now();
  }

  /** Entries held, for tests and memory checks. */
  get size(): { emails: number; clients: number } {
    return { emails: this.emails.size, clients: this.clients.size };
  }

  /**
   * Decides, before any password is checked, whether `client` may try `email` now. Refusals
   * change nothing (they do not extend a lock); an admitted attempt is charged as a failure at
   * once and must be settled with `succeeded()` or `failed()`.
   */
  admit(email: string, client: string): Admission {
    const now = this.now();
    this.sweep(now);
    const key = email.trim().toLowerCase();
    const entry = this.liveEmail(key, now);
    const tokens = this.liveTokens(client, now);

    const refusals: Refusal[] = [];
    if (entry && entry.blockedUntil > now) {
      refusals.push({
        reason: entry.locked ? "account_locked" : "account_backoff",
        retryAfterMs: entry.blockedUntil - now,
      });
    }
    if (tokens < 1) {
      refusals.push({ reason: "client", retryAfterMs: Math.ceil((1 - tokens) * this.limits.clientRefillMs) });
      this.logExhausted(client);
    }
    if (refusals.length > 0) {
      // The longest wait: retrying after a shorter one would only be refused again.
      return {
        admitted: false,
        refusal: refusals.reduce((a, b) => (b.retryAfterMs > a.retryAfterMs ? b : a)),
      };
    }

    this.setTokens(client, tokens - 1, now);
    const charged = this.chargeFailure(key, entry, now);
    const lockedByThis = charged.locked;
    let settled = false;
    return {
      admitted: true,
      attempt: {
        succeeded: () => {
          if (settled) return;
          settled = true;
          const later = this.now();
          this.emails.delete(key);
          this.setTokens(client, this.liveTokens(client, later) + 1, later);
        },
        failed: () => {
          if (settled) return;
          settled = true;
          if (this.emails.get(key) === charged) {
            if (lockedByThis) this.logLockout(key, charged, client);
            return;
          }
          // A concurrent success reset the count (or the entry was evicted): this failure still counts.
          const later = this.now();
          const current = this.liveEmail(key, later);
          const wasLocked = current?.locked ?? false;
          const recharged = this.chargeFailure(key, current, later);
          if (recharged.locked && !wasLocked) this.logLockout(key, recharged, client);
        },
      },
    };
  }

  /** No passwords, no session ids: the email (JSON-escaped, as it is user input) and the numbers. */
  private logLockout(key: string, entry: EmailEntry, client: string): void {
    this.logger.warn(
      `[idp] sign-in for ${JSON.stringify(key)} locked for ${describeWait(this.limits.lockoutMs)} ` +
        `after ${entry.failures} failed attempts (client ${client})`,
    );
  }

  /** The email's entry, or undefined once its lockout has ended or its failures are forgotten. */
  private liveEmail(key: string, now: number): EmailEntry | undefined {
    const entry = this.emails.get(key);
    if (entry && this.expired(entry, now)) {
      this.emails.delete(key);
      return undefined;
    }
    return entry;
  }

  private expired(entry: EmailEntry, now: number): boolean {
    if (entry.blockedUntil > now) return false;
    // A finished lockout starts a fresh count, as in Clerk.
    return entry.locked || now - entry.lastFailureAt >= this.limits.failureWindowMs;
  }

  /**
   * Counts one more failure for the email and sets the wait it earns. The entry is updated in
   * place (an attempt in flight recognises it) and becomes the most recently used.
   */
  private chargeFailure(key: string, entry: EmailEntry | undefined, now: number): EmailEntry {
    const { backoffAfterFailures, backoffBaseMs, backoffMaxMs, lockoutAfterFailures, lockoutMs } =
      this.limits;
    const charged = entry ?? { failures: 0, lastFailureAt: now, blockedUntil: 0, locked: false };
    charged.failures += 1;
    charged.lastFailureAt = now;
    if (charged.failures >= lockoutAfterFailures) {
      charged.blockedUntil = now + lockoutMs;
      charged.locked = true;
    } else if (charged.failures >= backoffAfterFailures) {
      const steps = Math.min(charged.failures - backoffAfterFailures, 52);
      charged.blockedUntil = now + Math.min(backoffBaseMs * 2 ** steps, backoffMaxMs);
    }
    this.remember(this.emails, key, charged, this.limits.maxTrackedEmails);
    return charged;
  }

  /** The client's tokens now, refilled for the time since they were last counted. */
  private liveTokens(client: string, now: number): number {
    const entry = this.clients.get(client);
    const { clientBurst, clientRefillMs } = this.limits;
    if (!entry) return clientBurst;
    const refilled = entry.tokens + Math.max(0, now - entry.updatedAt) / clientRefillMs;
    return Math.min(clientBurst, refilled);
  }

  private setTokens(client: string, tokens: number, now: number): void {
    const capped = Math.min(this.limits.clientBurst, tokens);
    if (capped >= this.limits.clientBurst) {
      this.clients.delete(client); // a full bucket is the same as no entry
      return;
    }
    // Called when an attempt is admitted or refunded: the bucket is not dry, so the next dry spell logs anew.
    this.remember(
      this.clients,
      client,
      { tokens: capped, updatedAt: now, logged: false },
      this.limits.maxTrackedClients,
    );
  }

  private logExhausted(client: string): void {
    const entry = this.clients.get(client);
    if (!entry || entry.logged) return;
    entry.logged = true;
    this.logger.warn(
      `[idp] sign-in attempts from client ${client} throttled: ${this.limits.clientBurst} attempts used up, ` +
        `one more allowed every ${describeWait(this.limits.clientRefillMs)}`,
    );
  }

  /** Sets an entry as the most recent, forgetting the least recent ones beyond the cap. */
  private remember<T>(map: Map<string, T>, key: string, value: T, max: number): void {
    map.delete(key);
    while (map.size >= max) {
      const oldest = map.keys().next().value;
      if (oldest === undefined) break;
      map.delete(oldest);
    }
    map.set(key, value);
  }

  /** Drops expired entries, at most once a minute, so memory follows the live entries. */
  private sweep(now: number): void {
    if (now - this.lastSweep < SWEEP_INTERVAL_MS) return;
    this.lastSweep = now;
    for (const [key, entry] of this.emails) {
      if (this.expired(entry, now)) this.emails.delete(key);
    }
    for (const client of [...this.clients.keys()]) {
      if (this.liveTokens(client, now) >= this.limits.clientBurst) this.clients.delete(client);
    }
  }
}

/**
 * The client a request counts against: its remote address. The IdP listens on 127.0.0.1 only,
 * and any 127.x.x.x source address reaches it, so all of loopback is one client; otherwise a
 * local script could bind 127.0.0.2, .3, … for a fresh bucket each.
 */
export function clientKey(remoteAddress: string | undefined): string {
  if (!remoteAddress) return "unknown";
  const address = remoteAddress.replace(/^::ffff:/i, "");
  return address === "::1" || address.startsWith("127.") ? "loopback" : address;
}

/** Whole seconds for `Retry-After`: rounded up, at least 1 (0 would invite an immediate retry). */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1_000));
}

/** "1 second", "45 seconds", "2 minutes", "1 hour": rounded up, so the retry is never early. */
export function describeWait(ms: number): string {
  const seconds = retryAfterSeconds(ms);
  const [amount, unit] =
    seconds < 120
      ? [seconds, "second"]
      : seconds < 120 * 60
        ? [Math.ceil(seconds / 60), "minute"]
        : [Math.ceil(seconds / 3_600), "hour"];
  return `${amount} ${unit}${amount === 1 ? "" : "s"}`;
}

/**
 * The 429 for a refused attempt, Clerk-shaped: `user_locked` with `meta.lockout_expires_in_seconds`
 * for the account (its backoff or its lockout), `too_many_requests` for the client; both with
 * `Retry-After`. The same for every email, existing or not. `backoffAsTooManyRequests` answers an
 * account's backoff (not its lockout) as `too_many_requests` with the account's message: the
 * Frontend API's choice, because clerk-js treats `user_locked` as Clerk's hour-long lockout and
 * leaves the password step for it (with its default navigation, a page load that loses the message).
 */
export function refusalResult(
  refusal: Refusal,
  { backoffAsTooManyRequests = false }: { backoffAsTooManyRequests?: boolean } = {},
): JsonResult {
  const seconds = retryAfterSeconds(refusal.retryAfterMs);
  const wait = describeWait(refusal.retryAfterMs);
  let error: HttpError;
  if (refusal.reason === "account_backoff" && backoffAsTooManyRequests) {
    error = new HttpError(
      429,
      "too_many_requests",
      `Too many sign-in attempts. Try again in ${wait}.`,
      `Too many failed sign-in attempts for this account. Try again in ${wait}.`,
    );
  } else if (refusal.reason === "client") {
    error = new HttpError(
      429,
      "too_many_requests",
      `Too many sign-in attempts. Try again in ${wait}.`,
      `Too many failed sign-in attempts from this client. Try again in ${wait}.`,
    );
  } else {
    const why =
      refusal.reason === "account_locked"
        ? "This account is locked after too many failed sign-in attempts."
        : "Too many failed sign-in attempts for this account.";
    error = new HttpError(
      429,
      "user_locked",
      `Account locked. Try again in ${wait}.`,
      `${why} Try again in ${wait}.`,
      {
        lockout_expires_in_seconds: seconds,
      },
    );
  }
  return { status: 429, body: error.body(), headers: { "Retry-After": String(seconds) } };
}

/** The defaults with the given fields (undefined ones ignored); throws on a nonsensical limit. */
export function resolveSignInLimits(limits: Partial<SignInLimits> = {}): SignInLimits {
  const given = Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined));
  return validLimits({ ...DEFAULT_SIGN_IN_LIMITS, ...given });
}

/** Counts at least 1, durations at least 0; Infinity turns a count limit off. */
function validLimits(limits: SignInLimits): SignInLimits {
  const counts = ["backoffAfterFailures", "lockoutAfterFailures", "clientBurst"] as const;
  const sizes = ["maxTrackedEmails", "maxTrackedClients"] as const;
  const durations = ["backoffBaseMs", "backoffMaxMs", "lockoutMs", "failureWindowMs"] as const;
  for (const name of counts) {
    const v = limits[name];
    if (!(v === Infinity || (Number.isInteger(v) && v >= 1))) {
      throw new Error(`signInLimits.${name} must be a whole number of at least 1 (or Infinity), got ${v}`);
    }
  }
  for (const name of sizes) {
    if (!(Number.isInteger(limits[name]) && limits[name] >= 1)) {
      throw new Error(`signInLimits.${name} must be a whole number of at least 1, got ${limits[name]}`);
    }
  }
  for (const name of durations) {
    if (!(Number.isFinite(limits[name]) && limits[name] >= 0)) {
      throw new Error(`signInLimits.${name} must be a duration in ms (0 or more), got ${limits[name]}`);
    }
  }
  if (!(Number.isFinite(limits.clientRefillMs) && limits.clientRefillMs > 0)) {
    throw new Error(`signInLimits.clientRefillMs must be above 0, got ${limits.clientRefillMs}`);
  }
  return limits;
}
