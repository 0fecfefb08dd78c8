/**
 * One WebSocket client of the sync protocol (reference §2-3). Per socket:
 * - messages are handled strictly in order (an Authenticate is verified before anything after it);
 * - mutations run one at a time in arrival order, deduplicated across reconnects by (sessionId,
 *   requestId) bound to the caller's identity, the function and its arguments (mutationLog.ts);
 *   a MutationResponse is always followed by a Transition at or after its ts;
 * - Transitions form one chain (each startVersion is the previous endVersion), computed by a
 *   single-flight update loop that re-runs only invalidated query results and sends only
 *   changed ones (hash dedup);
 * - an invalid token gets AuthError and a close; an identity that expires mid-session gets
 *   AuthError{authUpdateAttempted:false} and a close;
 * - bounded (limits.ts): at most MAX_PENDING_MESSAGES unfinished client messages (one more closes
 *   with 1013), reading pauses while unfinished input or unread output passes MAX_BUFFERED_BYTES,
 *   and the update loop waits while MAX_UNFLUSHED_TRANSITIONS are still unread by the client.
 */
import type { WebSocket } from "ws";
import type { JSONValue } from "convex/values";
import { AuthFailure, type Identity } from "./auth.ts";
import type { Runtime } from "./engine.ts";
import type { QueryEntry, QuerySubscriber } from "./queryCache.ts";
import {
  MAX_BUFFERED_BYTES,
  MAX_PENDING_MESSAGES,
  MAX_UNFLUSHED_TRANSITIONS,
  nestsDeeperThan,
} from "./limits.ts";
import { replayKey, type CommittedMutation, type MutationLog, type MutationOutcome } from "./mutationLog.ts";
import {
  encodeTs,
  type AddQuery,
  type ClientMessage,
  type FunctionResult,
  type ServerMessage,
  type StateModification,
} from "./protocol.ts";

const PING_INTERVAL_MS = 15_000;
type Subscription = {
  queryId: number;
  udfPath: string;
  argsJson: JSONValue;
  journal: string | null;
  entry: QueryEntry | null;
  seenVersion: number;
  hash: string | null;
};

export type SessionStats = { authErrors: number; transitions: number };

export class SyncSession implements QuerySubscriber {
  private readonly ws: WebSocket;
  private readonly runtime: Runtime;
  private readonly mutationLog: MutationLog;
  private readonly stats: SessionStats;
  private sessionId: string | null = null;
  private clockSkew: number | undefined;

  // Received (applied) versions.
  private querySetVersion = 0;
  private identityVersion = 0;
  private identity: Identity | null = null;
  private identityExp: number | null = null;

  // Last sent version.
  private sent = { querySet: 0, identity: 0, ts: 0n };

  private readonly subs = new Map<number, Subscription>();
  private pendingRemovals: number[] = [];
  private identityChanged = false;

  private updating = false;
  private needsUpdate = false;
  private mustSendTransition = false;

  private messageChain: Promise<void> = Promise.resolve();
  private mutationChain: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly pingTimer: NodeJS.Timeout;

  // Client messages received and not finished (queued, or a mutation/action still running).
  private pendingMessages = 0;
  private pendingBytes = 0;
  // Our frames handed to the socket that have not been flushed to the client yet.
  private unflushedBytes = 0;
  private unflushedTransitions = 0;
  private flushWaiters: (() => void)[] = [];

  constructor(ws: WebSocket, runtime: Runtime, mutationLog: MutationLog, stats: SessionStats) {
    this.ws = ws;
    this.runtime = runtime;
    this.mutationLog = mutationLog;
    this.stats = stats;
    this.pingTimer = setInterval(() => this.send({ type: "Ping" }), PING_INTERVAL_MS);
    this.pingTimer.unref();
    ws.on("message", (data, isBinary) => {
      if (this.closed) return;
      if (isBinary) {
        this.protocolError("binary frames are not part of the protocol");
        return;
      }
      if (this.pendingMessages >= MAX_PENDING_MESSAGES) {
        this.overloaded();
        return;
      }
      const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      const text = buffer.toString("utf8");
      const finished = this.admit(buffer.length);
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
    return this.subs.size;
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
    for (const sub of this.subs.values()) if (sub.entry) this.runtime.queryCache.release(sub.entry, this);
    this.subs.clear();
    // Let the closing handshake be read, and the update loop see `closed`.
    if (this.ws.isPaused) this.ws.resume();
    this.wakeFlushWaiters();
  }

  // ----- bounds (limits.ts) -----

  /** Counts a received message as unfinished; the returned function finishes it (once). */
  private admit(bytes: number): () => void {
    this.pendingMessages++;
    this.pendingBytes += bytes;
    this.updateReading();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.pendingMessages--;
      this.pendingBytes -= bytes;
      this.updateReading();
    };
  }

  /**
   * Stops reading from the socket while it holds too much (unfinished input, or output the client
   * has not read): TCP then slows the sender down instead of our memory growing.
   */
  private updateReading(): void {
    if (this.closed) return;
    const full = this.pendingBytes > MAX_BUFFERED_BYTES || this.unflushedBytes > MAX_BUFFERED_BYTES;
    if (full && !this.ws.isPaused) this.ws.pause();
    else if (!full && this.ws.isPaused) this.ws.resume();
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

  private wakeFlushWaiters(): void {
    for (const wake of this.flushWaiters.splice(0)) wake();
  }

  /** Resolves once fewer than MAX_UNFLUSHED_TRANSITIONS Transitions are unread (or the socket closed). */
  private async transitionsFlushed(): Promise<void> {
    while (!this.closed && this.unflushedTransitions >= MAX_UNFLUSHED_TRANSITIONS)
      await new Promise<void>((resolve) => this.flushWaiters.push(resolve));
  }

  private send(message: ServerMessage): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    const text = JSON.stringify(message);
    const bytes = Buffer.byteLength(text);
    const transition = message.type === "Transition";
    this.unflushedBytes += bytes;
    if (transition) this.unflushedTransitions++;
    // Called once the frame is handed to the kernel, or with an error if the socket died first.
    this.ws.send(text, () => {
      this.unflushedBytes -= bytes;
      if (transition) this.unflushedTransitions--;
      this.updateReading();
      this.wakeFlushWaiters();
    });
    this.updateReading();
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
        // maxObservedTimestamp is not checked: after a local restart it may be ahead (pitfall #28).
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
          if (mod.type === "Add") this.addQuery(mod);
          else {
            const sub = this.subs.get(mod.queryId);
            if (sub) {
              if (sub.entry) this.runtime.queryCache.release(sub.entry, this);
              this.subs.delete(mod.queryId);
            }
            this.pendingRemovals.push(mod.queryId);
          }
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
        this.identityChanged = true;
        this.scheduleUpdate();
        return;
      }
      case "Mutation":
        return {
          running: this.enqueueMutation(
            message.requestId,
            message.udfPath,
            message.args,
            message.componentPath,
          ),
        };
      case "Action":
        return {
          running: this.runAction(
            message.requestId,
            message.udfPath,
            message.args,
            message.componentPath,
          ).catch((error: unknown) => {
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

  private addQuery(mod: AddQuery): void {
    const existing = this.subs.get(mod.queryId);
    if (existing?.entry) this.runtime.queryCache.release(existing.entry, this);
    this.subs.set(mod.queryId, {
      queryId: mod.queryId,
      udfPath: mod.udfPath,
      argsJson: mod.args[0] ?? {},
      journal: mod.journal ?? null,
      entry: null,
      seenVersion: -1,
      hash: null,
    });
    if (mod.componentPath) {
      // Components are admin-only on Convex; the query fails below with a clear message.
      this.subs.get(mod.queryId)!.udfPath = `\u0000component:${mod.componentPath}`;
    }
  }

  private componentError(componentPath: string | undefined): Extract<FunctionResult, { ok: false }> | null {
    if (!componentPath) return null;
    return {
      ok: false,
      message: `Calling functions of component "${componentPath}" requires admin auth`,
      logLines: [],
      journal: null,
    };
  }

  // ----- mutations and actions -----

  private enqueueMutation(
    requestId: number,
    udfPath: string,
    args: JSONValue[],
    componentPath?: string,
  ): Promise<void> {
    const identity = this.identity;
    const sessionId = this.sessionId;
    this.mutationChain = this.mutationChain.then(async () => {
      if (this.closed) return;
      if (this.identityExpired()) {
        this.authError("Unauthenticated: the token has expired", this.identityVersion, false);
        return;
      }
      const componentFailure = this.componentError(componentPath);
      if (componentFailure) {
        this.sendMutationFailure(requestId, componentFailure);
        return;
      }
      // A replay only for the same caller, function and arguments (see mutationLog.ts). Arguments
      // nested too deeply to hash are refused by the run below, so they need no replay entry.
      const callArgs = args[0] ?? {};
      const key =
        sessionId === null || nestsDeeperThan(callArgs)
          ? null
          : replayKey({ sessionId, requestId, identity, udfPath, args: callArgs });
      const previous = key === null ? undefined : this.mutationLog.get(key);
      if (previous) {
        const outcome = await previous;
        if (outcome.success) {
          this.sendMutationSuccess(requestId, outcome);
          return;
        }
      }
      // Committed before this process started (a crash between commit and answer): the journal
      // kept its result with the commit.
      const durable = key === null ? undefined : this.runtime.committedReplay(key);
      if (durable) {
        this.sendMutationSuccess(requestId, {
          success: true,
          result: durable.result,
          ts: durable.ts,
          logLines: [],
        });
        return;
      }
      let settle!: (o: MutationOutcome) => void;
      if (key !== null) this.mutationLog.set(key, new Promise((r) => (settle = r)));
      const result = await this.runFunction("mutation", udfPath, args, identity, key ?? undefined);
      this.runtime.flush();
      if (result.ok) {
        const ts = result.ts ?? this.runtime.clock.current;
        const outcome: CommittedMutation = {
          success: true,
          result: result.value,
          ts,
          logLines: result.logLines,
        };
        settle?.(outcome);
        this.sendMutationSuccess(requestId, outcome);
      } else {
        if (key !== null) this.mutationLog.delete(key);
        settle?.({ success: false });
        this.sendMutationFailure(requestId, result);
      }
    });
    // Keep the chain alive: one failed link must not stop every later mutation on this socket.
    this.mutationChain = this.mutationChain.catch((error: unknown) => {
      console.error("[local backend] mutation handling failed:", error);
      this.ws.close(1011, "InternalServerError: mutation handling failed");
    });
    return this.mutationChain;
  }

  /** A MutationResponse for a mutation that committed (or a replay of one); a Transition follows. */
  private sendMutationSuccess(requestId: number, outcome: CommittedMutation): void {
    this.send({
      type: "MutationResponse",
      requestId,
      success: true,
      result: outcome.result,
      ts: encodeTs(outcome.ts),
      logLines: outcome.logLines,
    });
    this.requireTransition();
  }

  private sendMutationFailure(requestId: number, result: Extract<FunctionResult, { ok: false }>): void {
    this.send({
      type: "MutationResponse",
      requestId,
      success: false,
      result: result.message,
      logLines: result.logLines,
      ...(result.errorData !== undefined ? { errorData: result.errorData } : {}),
    });
  }

  private async runAction(
    requestId: number,
    udfPath: string,
    args: JSONValue[],
    componentPath?: string,
  ): Promise<void> {
    const identity = this.identity;
    if (this.identityExpired()) {
      this.authError("Unauthenticated: the token has expired", this.identityVersion, false);
      return;
    }
    let result: FunctionResult = this.componentError(componentPath) ?? {
      ok: false,
      message: "",
      logLines: [],
      journal: null,
    };
    if (!componentPath) result = await this.runFunction("action", udfPath, args, identity);
    this.runtime.flush();
    if (result.ok) {
      this.send({
        type: "ActionResponse",
        requestId,
        success: true,
        result: result.value,
        logLines: result.logLines,
      });
    } else {
      this.send({
        type: "ActionResponse",
        requestId,
        success: false,
        result: result.message,
        logLines: result.logLines,
        ...(result.errorData !== undefined ? { errorData: result.errorData } : {}),
      });
    }
  }

  /** Runs a client's mutation or action; a throw (e.g. the backend shutting down) is a failed result. */
  private async runFunction(
    kind: "mutation" | "action",
    udfPath: string,
    args: JSONValue[],
    identity: Identity | null,
    replayKey?: string,
  ): Promise<FunctionResult> {
    try {
      return await this.runtime.run(
        kind,
        udfPath,
        args[0] ?? {},
        identity,
        replayKey === undefined ? {} : { replayKey },
      );
    } catch (error) {
      return { ok: false, message: String(error), logLines: [], journal: null };
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
        await this.transitionsFlushed();
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
    if (this.identityExpired()) {
      this.authError("Unauthenticated: the token has expired", this.identityVersion, false);
      return;
    }
    // Read the versions and the ts before running anything: every result below is at least as
    // new as `ts`, and `ts` covers every commit whose MutationResponse was already sent.
    const querySet = this.querySetVersion;
    const identityVersion = this.identityVersion;
    const identity = this.identity;
    const ts = this.runtime.clock.current > this.sent.ts ? this.runtime.clock.current : this.sent.ts;
    const forced = this.mustSendTransition;
    this.mustSendTransition = false;

    const modifications: StateModification[] = [];
    for (const queryId of this.pendingRemovals.splice(0)) {
      if (!this.subs.has(queryId)) modifications.push({ type: "QueryRemoved", queryId });
    }
    if (this.identityChanged) {
      // A new identity: every query runs again as that identity (results still hash-deduped).
      this.identityChanged = false;
      for (const sub of this.subs.values()) {
        if (sub.entry) this.runtime.queryCache.release(sub.entry, this);
        sub.entry = null;
        sub.seenVersion = -1;
      }
    }

    const work = [...this.subs.values()].map(async (sub) => {
      if (sub.entry === null)
        sub.entry = this.runtime.queryCache.acquire(identity, sub.udfPath, sub.argsJson, sub.journal, this);
      const entry = sub.entry;
      if (this.runtime.queryCache.isFresh(entry, sub.seenVersion)) return null;
      const result = sub.udfPath.startsWith("\u0000component:")
        ? this.componentError(sub.udfPath.slice("\u0000component:".length))!
        : await this.runtime.queryCache.resolve(entry);
      if (this.subs.get(sub.queryId) !== sub || sub.entry !== entry) return null;
      sub.seenVersion = entry.version;
      if (result.ok && result.journal !== null && result.journal !== sub.journal) {
        sub.journal = result.journal;
        sub.entry = this.runtime.queryCache.rekey(entry, result.journal, this);
        sub.seenVersion = sub.entry.version;
      }
      const hash = result.ok
        ? `ok:${JSON.stringify(result.value)}:${JSON.stringify(result.logLines)}`
        : `err:${result.message}:${JSON.stringify(result.errorData ?? null)}:${JSON.stringify(result.logLines)}`;
      if (hash === sub.hash) return null;
      sub.hash = hash;
      const modification: StateModification = result.ok
        ? {
            type: "QueryUpdated",
            queryId: sub.queryId,
            value: result.value,
            logLines: result.logLines,
            journal: sub.journal,
          }
        : {
            type: "QueryFailed",
            queryId: sub.queryId,
            errorMessage: result.message,
            logLines: result.logLines,
            journal: sub.journal,
            ...(result.errorData !== undefined ? { errorData: result.errorData } : {}),
          };
      return modification;
    });
    for (const m of await Promise.all(work)) if (m) modifications.push(m);
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
