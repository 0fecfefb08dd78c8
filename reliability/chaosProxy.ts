/**
 * A hostile network between the IdP's webhook sender and the backend's /clerk-users-webhook.
 * Every byte forwarded is the IdP's own delivery (its real user JSON, signed by it with svix);
 * the proxy only decides when, how often and in which order the backend sees it:
 *
 * - fails attempts (HTTP 503, or a reset connection), so the IdP retries them after its backoff;
 * - forwards an attempt at once and answers the IdP with the backend's answer;
 * - or acknowledges the IdP at once and holds the delivery, which lets the IdP send that user's
 *   next event, and releases held deliveries later in random order: reordered and delayed;
 * - re-sends deliveries the backend already acknowledged, later or concurrently: duplicates;
 * - loses the backend's acknowledgement on the way back (the IdP retries a processed message,
 *   re-signed with a fresh timestamp under the same svix-id).
 *
 * The proxy never loses a delivery it acknowledged: a held one stays held until the backend
 * answers 2xx, and `drain()` flushes everything at the end.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { sleep } from "./harness.ts";

export type ChaosOptions = {
  /** The backend's webhook URL. */
  target: string;
  rng: () => number;
  /** Share of IdP attempts answered 503 without forwarding. */
  failRate: number;
  /** Share of IdP attempts whose connection is destroyed without an answer. */
  resetRate: number;
  /** Share of the remaining attempts acknowledged at once and held for later, shuffled. */
  holdRate: number;
  /** Share of deliveries re-sent after the backend acknowledged them. */
  duplicateRate: number;
  /** Share of attempts forwarded at once whose 2xx is replaced by a 503 towards the IdP. */
  lostAckRate: number;
  /** Share of forwards sent twice at the same time. */
  concurrentDuplicateRate: number;
  /** A held delivery waits up to this long before it may be released. */
  maxHoldMs: number;
};

type Delivery = {
  svixId: string;
  userId: string;
  type: string;
  /** The IdP's order of this user's events (0, 1, 2, … per user). */
  seq: number;
  headers: Record<string, string>;
  body: string;
};

type Held = { delivery: Delivery; notBefore: number; copies: number };

export type ChaosStats = {
  idpAttempts: number;
  injected503: number;
  injectedResets: number;
  forwardedAtOnce: number;
  lostAcks: number;
  held: number;
  /** Backend requests in all (every copy). */
  backendRequests: number;
  duplicatesSent: number;
  concurrentDuplicates: number;
  /** Deliveries that reached the backend after a later event of the same user had. */
  reordered: number;
  /** Distinct svix messages seen. */
  messages: number;
  outcomes: Record<string, number>;
  /** Backend answers that were not 2xx, or requests that failed: must stay empty. */
  backendFailures: string[];
};

export class ChaosProxy {
  url = "";
  readonly stats: ChaosStats = {
    idpAttempts: 0,
    injected503: 0,
    injectedResets: 0,
    forwardedAtOnce: 0,
    lostAcks: 0,
    held: 0,
    backendRequests: 0,
    duplicatesSent: 0,
    concurrentDuplicates: 0,
    reordered: 0,
    messages: 0,
    outcomes: {},
    backendFailures: [],
  };
  private readonly server: http.Server;
  private readonly pool: Held[] = [];
  private readonly seqById = new Map<string, number>();
  private readonly nextSeq = new Map<string, number>();
  private readonly maxSeqForwarded = new Map<string, number>();
  private readonly alreadySent = new Set<string>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private pump: NodeJS.Timeout | null = null;
  private draining = false;

  private constructor(private readonly options: ChaosOptions) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => void this.onAttempt(req, res, Buffer.concat(chunks).toString("utf8")));
    });
  }

  static async start(options: ChaosOptions): Promise<ChaosProxy> {
    const proxy = new ChaosProxy(options);
    await new Promise<void>((r) => proxy.server.listen(0, "127.0.0.1", r));
    proxy.url = `http://127.0.0.1:${(proxy.server.address() as AddressInfo).port}/clerk-users-webhook`;
    proxy.pump = setInterval(() => proxy.releaseSome(), 5);
    return proxy;
  }

  /** Held deliveries waiting for the backend. */
  get pending(): number {
    return this.pool.length;
  }

  private async onAttempt(req: http.IncomingMessage, res: http.ServerResponse, body: string): Promise<void> {
    this.stats.idpAttempts++;
    const { rng, failRate, resetRate, holdRate } = this.options;
    const roll = rng();
    if (roll < failRate) {
      this.stats.injected503++;
      res.writeHead(503).end();
      return;
    }
    if (roll < failRate + resetRate) {
      this.stats.injectedResets++;
      req.socket.destroy();
      return;
    }
    const delivery = this.deliveryOf(req, body);
    if (!this.draining && rng() < holdRate) {
      this.stats.held++;
      this.hold(delivery, 1);
      res.writeHead(200, { "Content-Type": "application/json" }).end('{"held":true}');
      return;
    }
    this.stats.forwardedAtOnce++;
    const status = await this.forward(delivery);
    if (status >= 200 && status < 300 && !this.draining && rng() < this.options.duplicateRate) {
      this.hold(delivery, 1); // redelivered later: the backend already processed it
    }
    if (status >= 200 && status < 300 && !this.draining && rng() < this.options.lostAckRate) {
      this.stats.lostAcks++;
      res.writeHead(503).end();
      return;
    }
    res.writeHead(status === 0 ? 502 : status).end();
  }

  private deliveryOf(req: http.IncomingMessage, body: string): Delivery {
    const header = (name: string) => String(req.headers[name] ?? "");
    const svixId = header("svix-id");
    const event = JSON.parse(body) as { type: string; data: { id: string } };
    let seq = this.seqById.get(svixId);
    if (seq === undefined) {
      seq = this.nextSeq.get(event.data.id) ?? 0;
      this.nextSeq.set(event.data.id, seq + 1);
      this.seqById.set(svixId, seq);
      this.stats.messages++;
    }
    return {
      svixId,
      userId: event.data.id,
      type: event.type,
      seq,
      body,
      headers: {
        "content-type": "application/json",
        "svix-id": svixId,
        "svix-timestamp": header("svix-timestamp"),
        "svix-signature": header("svix-signature"),
      },
    };
  }

  private hold(delivery: Delivery, copies: number): void {
    const extra = !this.draining && this.options.rng() < this.options.duplicateRate ? 1 : 0;
    this.pool.push({
      delivery,
      copies: copies + extra,
      notBefore: Date.now() + this.options.rng() * this.options.maxHoldMs,
    });
  }

  /** Releases up to a few eligible held deliveries, chosen at random (so out of order). */
  private releaseSome(): void {
    const now = Date.now();
    for (let n = 0; n < 4 && this.inFlight.size < 8; n++) {
      const eligible = this.pool.filter((h) => this.draining || h.notBefore <= now);
      if (eligible.length === 0) return;
      const held = eligible[Math.floor(this.options.rng() * eligible.length)]!;
      this.pool.splice(this.pool.indexOf(held), 1);
      const task = this.release(held).finally(() => this.inFlight.delete(task));
      this.inFlight.add(task);
    }
  }

  private async release(held: Held): Promise<void> {
    const concurrent = !this.draining && this.options.rng() < this.options.concurrentDuplicateRate;
    if (concurrent) this.stats.concurrentDuplicates++;
    const statuses = await Promise.all(
      Array.from({ length: concurrent ? 2 : 1 }, () => this.forward(held.delivery)),
    );
    const ok = statuses.some((s) => s >= 200 && s < 300);
    if (!ok) {
      // Not acknowledged: it stays ours to deliver.
      this.pool.push({ ...held, notBefore: Date.now() + 50 });
      return;
    }
    if (held.copies > 1) this.pool.push({ ...held, copies: held.copies - 1, notBefore: Date.now() + 100 });
  }

  /** One request to the backend with the IdP's exact bytes and headers; the status, 0 on a network error. */
  private async forward(delivery: Delivery): Promise<number> {
    this.stats.backendRequests++;
    const max = this.maxSeqForwarded.get(delivery.userId) ?? -1;
    if (delivery.seq < max) this.stats.reordered++;
    else this.maxSeqForwarded.set(delivery.userId, delivery.seq);
    if (this.alreadySent.has(delivery.svixId)) this.stats.duplicatesSent++;
    this.alreadySent.add(delivery.svixId);
    try {
      const response = await fetch(this.options.target, {
        method: "POST",
        headers: delivery.headers,
        body: delivery.body,
      });
      const text = await response.text();
      if (response.ok) {
        const outcome = (JSON.parse(text) as { outcome?: string }).outcome ?? "?";
        this.stats.outcomes[outcome] = (this.stats.outcomes[outcome] ?? 0) + 1;
      } else {
        this.stats.backendFailures.push(
          `${delivery.type} ${delivery.svixId}: HTTP ${response.status} ${text}`,
        );
      }
      return response.status;
    } catch (error) {
      this.stats.backendFailures.push(`${delivery.type} ${delivery.svixId}: ${String(error)}`);
      return 0;
    }
  }

  /** Stops creating new chaos and delivers everything held; resolves when nothing is held or in flight. */
  async drain(timeoutMs = 60_000): Promise<void> {
    this.draining = true;
    const deadline = Date.now() + timeoutMs;
    while (this.pool.length > 0 || this.inFlight.size > 0) {
      if (Date.now() > deadline) throw new Error(`${this.pool.length} held webhook deliveries not drained`);
      await sleep(10);
    }
  }

  async close(): Promise<void> {
    if (this.pump) clearInterval(this.pump);
    await Promise.allSettled([...this.inFlight]);
    await new Promise<void>((r) => {
      this.server.close(() => r());
      this.server.closeAllConnections();
    });
  }
}
