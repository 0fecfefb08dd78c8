import type { OutboxMessage, Store } from "../store.ts";
import type { Signer } from "./sign.ts";

export type Logger = Pick<Console, "info" | "warn" | "error">;

export interface DeliveryOptions {
  url: string | undefined;
  sign: Signer;
  /** Delay before attempt n+1 is retryDelaysMs[n-1]; the last entry repeats. */
  retryDelaysMs: readonly number[];
  maxAttempts: number;
  timeoutMs: number;
  logger: Logger;
}

export interface DeliveryStats {
  /** Messages in the outbox (waiting, in flight, or between retries). */
  pending: number;
  delivered: number;
  /** Attempts that got no 2xx (HTTP error, timeout, connection refused). */
  failedAttempts: number;
  /** Messages given up after maxAttempts. */
  dropped: number;
}

type Outcome = { ok: true } | { ok: false; reason: string };

/**
 * Sends the outbox the way svix delivers Clerk's webhooks: at least once, each message retried
 * with backoff until a 2xx, re-signed with a fresh timestamp per attempt under the same svix-id.
 * One lane per user delivers that user's messages strictly in order (user.created before the
 * user.updated that follows it); lanes for different users run independently, so one user's
 * failing message does not hold up everyone else's. Messages leave the persisted outbox only
 * once delivered (or dropped), so an IdP restart resumes where it stopped.
 */
export class WebhookSender {
  private target: string | undefined;
  /** Users whose lane is running; a lane removes itself synchronously when it finds nothing left. */
  private readonly activeLanes = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  private readonly sleepers = new Set<() => void>();
  private readonly inFlight = new Set<AbortController>();
  private waiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  private closed = false;
  private readonly counts = { delivered: 0, failedAttempts: 0, dropped: 0 };

  constructor(
    private readonly store: Store,
    private readonly options: DeliveryOptions,
  ) {
    this.target = checkedUrl(options.url);
    store.onCommit(() => {
      this.wake();
      this.notifyIfIdle();
    });
  }

  get url(): string | undefined {
    return this.target;
  }

  /** Whether user changes should be recorded for delivery at all. */
  get enabled(): boolean {
    return this.target !== undefined;
  }

  setUrl(url: string | undefined): void {
    this.target = checkedUrl(url);
    this.wake();
  }

  /** Starts a lane for every user with waiting messages that has none running. */
  wake(): void {
    if (this.closed || this.target === undefined) return;
    for (const { userId } of this.store.state.outbox) {
      if (this.activeLanes.has(userId)) continue;
      this.activeLanes.add(userId);
      const lane = this.runLane(userId);
      this.running.add(lane);
      void lane.then(() => this.running.delete(lane));
    }
  }

  stats(): DeliveryStats {
    return { pending: this.store.state.outbox.length, ...this.counts };
  }

  /** Resolves once the outbox is empty; rejects after timeoutMs, or if the IdP closes first. */
  whenDelivered(timeoutMs?: number): Promise<void> {
    if (this.store.state.outbox.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject };
      this.waiters.push(waiter);
      if (timeoutMs === undefined) return;
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(
          new Error(`${this.store.state.outbox.length} webhook(s) still undelivered after ${timeoutMs} ms`),
        );
      }, timeoutMs);
      waiter.resolve = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Stops sending. Undelivered messages stay in the outbox for the next start. */
  async close(): Promise<void> {
    this.closed = true;
    for (const controller of this.inFlight) controller.abort();
    for (const wakeUp of this.sleepers) wakeUp();
    await Promise.all(this.running);
    for (const waiter of this.waiters.splice(0)) waiter.reject(new Error("the IdP closed before delivering"));
  }

  /**
   * One user's lane. It leaves `activeLanes` synchronously, in the same step that finds nothing
   * left to send, so a message queued a moment later always starts a fresh lane.
   */
  private async runLane(userId: string): Promise<void> {
    for (;;) {
      const url = this.closed ? undefined : this.target;
      const message = url && this.store.state.outbox.find((m) => m.userId === userId);
      if (!url || !message) {
        this.activeLanes.delete(userId);
        return;
      }
      try {
        await this.deliver(message, url);
      } catch (error) {
        // Only the state file's write can throw here; the message stays queued for the next wake.
        this.options.logger.error(`[idp] webhook delivery for ${userId} stopped:`, error);
        this.activeLanes.delete(userId);
        return;
      }
    }
  }

  /** One attempt and its bookkeeping: remove on success, count and back off on failure. */
  private async deliver(message: OutboxMessage, url: string): Promise<void> {
    const outcome = await this.attempt(message, url);
    if (this.closed) return;
    if (outcome.ok) {
      this.counts.delivered += 1;
      this.remove(message);
      return;
    }
    this.counts.failedAttempts += 1;
    this.store.commit(() => {
      message.attempts += 1;
    });
    const attempt = `attempt ${message.attempts}/${this.options.maxAttempts}`;
    if (message.attempts >= this.options.maxAttempts) {
      this.options.logger.error(
        `[idp] webhook ${message.id} ${message.type} ${attempt} failed (${outcome.reason}); giving up`,
      );
      this.counts.dropped += 1;
      this.remove(message);
      return;
    }
    const delay = this.delayAfter(message.attempts);
    this.options.logger.warn(
      `[idp] webhook ${message.id} ${message.type} ${attempt} failed (${outcome.reason}); retrying in ${delay} ms`,
    );
    await this.sleep(delay);
  }

  private async attempt(message: OutboxMessage, url: string): Promise<Outcome> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.options.timeoutMs);
    this.inFlight.add(controller);
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "User-Agent": "Svix-Webhooks/1.0 (gatehouse-local-idp)",
          ...this.options.sign(message.id, new Date(), message.payload),
        },
        body: message.payload,
        redirect: "manual", // svix counts a redirect as a failure, and so do we
        signal: controller.signal,
      });
      await response.arrayBuffer().catch(() => undefined); // drain, so the socket can be reused
      return response.status >= 200 && response.status < 300
        ? { ok: true }
        : { ok: false, reason: `HTTP ${response.status}` };
    } catch (error) {
      return { ok: false, reason: describe(error, controller.signal.aborted) };
    } finally {
      clearTimeout(timer);
      this.inFlight.delete(controller);
    }
  }

  private remove(message: OutboxMessage): void {
    this.store.commit((state) => {
      state.outbox = state.outbox.filter((m) => m !== message);
    });
  }

  private delayAfter(attempts: number): number {
    const delays = this.options.retryDelaysMs;
    return delays[Math.min(attempts, delays.length) - 1] ?? 0;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wakeUp = () => {
        clearTimeout(timer);
        this.sleepers.delete(wakeUp);
        resolve();
      };
      const timer = setTimeout(wakeUp, ms);
      this.sleepers.add(wakeUp);
    });
  }

  private notifyIfIdle(): void {
    if (this.store.state.outbox.length > 0) return;
    for (const waiter of this.waiters.splice(0)) waiter.resolve();
  }
}

/** A typo in the webhook URL fails at start-up, not as an endless series of failed attempts. */
function checkedUrl(url: string | undefined): string | undefined {
  if (url !== undefined && !URL.canParse(url)) throw new Error(`Invalid webhook URL: ${url}`);
  return url;
}

function describe(error: unknown, aborted: boolean): string {
  if (aborted) return "timed out";
  if (!(error instanceof Error)) return String(error);
  // fetch reports "fetch failed"; the cause says why (ECONNREFUSED, "bad port", ...).
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  if (typeof cause?.code === "string") return cause.code;
  if (typeof cause?.message === "string") return `${error.message}: ${cause.message}`;
  return error.message;
}
