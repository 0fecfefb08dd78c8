/**
 * One WebSocket client of Convex's sync protocol, as the `convex` client speaks it (message
 * shapes: npm-packages/convex/src/browser/sync/protocol.ts in github.com/get-convex/convex-backend;
 * the server side: crates/sync/src/worker.rs there). Per socket:
 *
 * - messages are handled strictly in order (an Authenticate is verified before anything after it);
 * - mutations and actions run through syncCalls.ts: mutations one at a time in arrival order,
 *   deduplicated across reconnects; a MutationResponse is always followed by a Transition at or
 *   after its ts;
 * - Transitions form one chain (each startVersion is the previous endVersion), computed by a
 *   single-flight update loop from the session's queries (querySet.ts), which re-runs only
 *   invalidated results and sends only changed ones;
 * - an invalid token gets AuthError and a close; an identity that expires mid-session gets
 *   AuthError{authUpdateAttempted:false} and a close;
 * - bounded (socketFlow.ts, limits.ts): one message over MAX_PENDING_MESSAGES unfinished ones
 *   closes the socket with 1013; reading pauses while too much is buffered; no new Transition
 *   is computed while the client has not read the last ones.
 */
import type { WebSocket } from "ws";
import { AuthFailure, type Identity } from "./auth.ts";
import type { Runtime } from "./engine.ts";
import { MAX_PENDING_MESSAGES } from "./limits.ts";
import type { MutationLog } from "./mutationLog.ts";
import { encodeTs, type ClientMessage, type ServerMessage } from "./protocol.ts";
import type { QuerySubscriber } from "./queryCache.ts";
import { QuerySet } from "./querySet.ts";
import { SocketFlow } from "./socketFlow.ts";
import { SessionCalls } from "./syncCalls.ts";

const PING_INTERVAL_MS = 15_000;

export type SessionStats = { authErrors: number; transitions: number };

export class SyncSession implements QuerySubscriber {
  private readonly ws: WebSocket;
  private readonly runtime: Runtime;
  private readonly stats: SessionStats;
  private readonly flow: SocketFlow;
  private readonly queries: QuerySet;
  private readonly calls: SessionCalls;
  private sessionId: string | null = null;
  private clockSkew: number | undefined;

  // Received (applied) versions.
  private querySetVersion = 0;
  private identityVersion = 0;
  private identity: Identity | null = null;
  private identityExp: number | null = null;

  // Last sent version.
  private sent = { querySet: 0, identity: 0, ts: 0n };

  private updating = false;
  private needsUpdate = false;
  private mustSendTransition = false;

  private messageChain: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly pingTimer: NodeJS.Timeout;

  constructor(ws: WebSocket, runtime: Runtime, mutationLog: MutationLog, stats: SessionStats) {
    this.ws = ws;
    this.runtime = runtime;
    this.stats = stats;
    this.flow = new SocketFlow(ws, () => this.closed);
    this.queries = new QuerySet(runtime.queryCache, this);
    this.calls = new SessionCalls({
      runtime,
      mutationLog,
      isClosed: () => this.closed,
      refuseExpired: () => this.refuseExpired(),
      send: (message) => this.send(message),
      requireTransition: () => this.requireTransition(),
      closeSocket: (code, reason) => this.ws.close(code, reason),
    });
    this.pingTimer = setInterval(() => this.send({ type: "Ping" }), PING_INTERVAL_MS);
    this.pingTimer.unref();
    ws.on("message", (data, isBinary) => {
      if (this.closed) return;
      if (isBinary) {
        this.protocolError("binary frames are not part of the protocol");
        return;
      }
      if (this.flow.atCapacity) {
        this.overloaded();
        return;
      }
      const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      const text = buffer.toString("utf8");
      const finished = this.flow.admit(buffer.length);
      this.messageChain = this.messageChain.then(async () => {
        try {
          const work = await this.handle(text);
          // A mutation or action stays unfinished until it has been answered.
          if (work) return void work.running.then(finished, finished);
        } catch (error) {
          this.protocolError(error instanceof Error ? error.message : String(error));
        }
        finished();
      });
    });
    ws.on("close", () => this.dispose());
    ws.on("error", () => this.dispose());
  }

  get subscriptionCount(): number {
    return this.queries.size;
  }

  /** An update round is scheduled or running. */
  get isUpdating(): boolean {
    return this.updating;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Wakes the update loop (a query result this session uses was invalidated). */
  wake(): void {
    this.scheduleUpdate();
  }

  close(code = 1001, reason = "server shutting down"): void {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING)
      this.ws.close(code, reason);
    this.dispose();
  }

  private dispose(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pingTimer);
    this.queries.clear();
    // Let the closing handshake be read, and the update loop see `closed`.
    this.flow.release();
  }

  /** More unfinished messages than Convex allows per socket: close as its rate limiter does. */
  private overloaded(): void {
    if (this.closed) return;
    this.ws.close(
      1013,
      `TooManyConcurrentRequests: more than ${MAX_PENDING_MESSAGES} unfinished messages on one WebSocket`,
    );
    this.dispose();
  }

  private send(message: ServerMessage): void {
    this.flow.send(message);
  }

  private protocolError(reason: string): void {
    if (this.closed) return;
    const r = `InternalServerError: ${reason}`.slice(0, 120);
    this.ws.close(1011, r);
    this.dispose();
  }

  private authError(error: string, baseVersion: number, authUpdateAttempted: boolean): void {
    this.stats.authErrors++;
    this.send({ type: "AuthError", error, baseVersion, authUpdateAttempted });
    // Close after a tick so the AuthError frame is flushed first; both sides reset versions.
    const ws = this.ws;
    this.dispose();
    setTimeout(() => {
      if (ws.readyState === ws.OPEN) ws.close(1000, "AuthError");
    }, 10).unref();
  }

  private identityExpired(): boolean {
    return this.identity !== null && this.identityExp !== null && this.identityExp * 1000 <= Date.now();
  }

  /** An identity that expired mid-session: AuthError{authUpdateAttempted:false} and a close. */
  private refuseExpired(): boolean {
    if (!this.identityExpired()) return false;
    this.authError("Unauthenticated: the token has expired", this.identityVersion, false);
    return true;
  }

  /** Handles one message in order; a mutation or action returns its still-running work. */
  private async handle(text: string): Promise<{ running: Promise<void> } | undefined> {
    if (this.closed) return;
    let message: ClientMessage;
    try {
      message = JSON.parse(text) as ClientMessage;
    } catch {
      this.protocolError("message is not JSON");
      return;
    }
    switch (message.type) {
      case "Connect":
        this.sessionId = message.sessionId;
        if (typeof message.clientTs === "number") this.clockSkew = message.clientTs - Date.now();
        // maxObservedTimestamp is not checked. Convex refuses a Connect whose maxObservedTimestamp
        // is ahead of its latest timestamp (worker.rs, linked above). A browser tab outlives this
        // backend's runs, and each run's timestamps start from the wall clock (protocol.ts Clock):
        // if the clock stepped back between runs, the tab can be ahead of every timestamp this run
        // has issued, and refusing it would keep it reconnecting until the clock caught up.
        return;
      case "ModifyQuerySet": {
        if (message.baseVersion !== this.querySetVersion || message.newVersion <= message.baseVersion) {
          this.protocolError(
            `BaseVersionMismatch: query set ${message.baseVersion} vs ${this.querySetVersion}`,
          );
          return;
        }
        this.querySetVersion = message.newVersion;
        for (const mod of message.modifications) {
          if (mod.type === "Add") this.queries.add(mod);
          else this.queries.remove(mod.queryId);
        }
        this.scheduleUpdate();
        return;
      }
      case "Authenticate": {
        if (message.baseVersion !== this.identityVersion) {
          this.protocolError(
            `BaseVersionMismatch: identity ${message.baseVersion} vs ${this.identityVersion}`,
          );
          return;
        }
        if (message.tokenType === "User") {
          try {
            const verified = await this.runtime.verifier.verify(message.value);
            this.identity = verified.identity;
            this.identityExp = verified.exp;
          } catch (error) {
            const msg = error instanceof AuthFailure ? `${error.code}: ${error.message}` : String(error);
            this.authError(msg, message.baseVersion, true);
            return;
          }
        } else if (message.tokenType === "None") {
          this.identity = null;
          this.identityExp = null;
        } else {
          this.authError(
            "Admin authentication is not supported by the local backend",
            message.baseVersion,
            true,
          );
          return;
        }
        this.identityVersion = message.baseVersion + 1;
        this.queries.identityChangedNow();
        this.scheduleUpdate();
        return;
      }
      case "Mutation":
        return {
          running: this.calls.enqueueMutation(
            message.requestId,
            message.udfPath,
            message.args,
            message.componentPath,
            this.identity,
            this.sessionId,
          ),
        };
      case "Action":
        return {
          running: this.calls
            .runAction(message.requestId, message.udfPath, message.args, message.componentPath, this.identity)
            .catch((error: unknown) => {
              console.error("[local backend] action handling failed:", error);
              this.protocolError("action handling failed");
            }),
        };
      case "Event":
        return;
      default:
        this.protocolError(`unknown message type ${(message as { type?: unknown }).type as string}`);
    }
  }

  /** A MutationResponse was sent: a Transition must follow (at a ts at or after it). */
  private requireTransition(): void {
    this.mustSendTransition = true;
    this.scheduleUpdate();
  }

  // ----- the update loop -----

  private scheduleUpdate(): void {
    if (this.closed) return;
    if (this.updating) {
      this.needsUpdate = true;
      return;
    }
    this.updating = true;
    this.needsUpdate = true;
    setImmediate(() => {
      void this.runUpdates();
    });
  }

  private async runUpdates(): Promise<void> {
    try {
      while (this.needsUpdate && !this.closed) {
        // A client that is not reading gets no new Transition until it catches up; everything
        // invalidated meanwhile is coalesced into the next one.
        await this.flow.transitionsFlushed();
        if (this.closed) break;
        this.needsUpdate = false;
        await this.updateOnce();
      }
    } catch (error) {
      this.protocolError(error instanceof Error ? error.message : String(error));
    } finally {
      this.updating = false;
    }
  }

  private async updateOnce(): Promise<void> {
    if (this.refuseExpired()) return;
    // Read the versions and the ts before running anything: every result below is at least as
    // new as `ts`, and `ts` covers every commit whose MutationResponse was already sent.
    const querySet = this.querySetVersion;
    const identityVersion = this.identityVersion;
    const identity = this.identity;
    const ts = this.runtime.clock.current > this.sent.ts ? this.runtime.clock.current : this.sent.ts;
    const forced = this.mustSendTransition;
    this.mustSendTransition = false;

    const modifications = await this.queries.changes(identity);
    if (this.closed) return;

    const versionChanged = querySet !== this.sent.querySet || identityVersion !== this.sent.identity;
    if (modifications.length === 0 && !versionChanged && !forced) return;
    this.stats.transitions++;
    this.send({
      type: "Transition",
      startVersion: {
        querySet: this.sent.querySet,
        identity: this.sent.identity,
        ts: encodeTs(this.sent.ts),
      },
      endVersion: { querySet, identity: identityVersion, ts: encodeTs(ts) },
      modifications,
      ...(this.clockSkew !== undefined ? { clientClockSkew: this.clockSkew } : {}),
      serverTs: Date.now() * 1e6,
    });
    this.sent = { querySet, identity: identityVersion, ts };
  }
}
