/**
 * A session's mutations and actions. Mutations run one at a time in arrival order (Convex's
 * guarantee per client); a mutation resent after a reconnect is answered from the mutation log
 * (mutationLog.ts), or from the journal after a restart, instead of running twice. A
 * MutationResponse is always followed by a Transition at or after its timestamp, so the client
 * sees the mutation's writes when its promise resolves. Actions run at once, unordered.
 */
import type { JSONValue } from "convex/values";
import type { Identity } from "./auth.ts";
import type { Runtime } from "./engine.ts";
import { nestsDeeperThan } from "./limits.ts";
import { replayKey, type CommittedMutation, type MutationLog, type MutationOutcome } from "./mutationLog.ts";
import { componentRefusal, encodeTs, type FunctionResult, type ServerMessage } from "./protocol.ts";

/** What the calls need from their sync session (sync.ts). */
export type CallSession = {
  readonly runtime: Runtime;
  readonly mutationLog: MutationLog;
  isClosed(): boolean;
  /** When the session's token has expired: sends AuthError, closes, and returns true. */
  refuseExpired(): boolean;
  send(message: ServerMessage): void;
  /** A MutationResponse was sent: a Transition must follow (at a ts at or after it). */
  requireTransition(): void;
  /** Closes the socket without answering (a bug here, not the client's doing). */
  closeSocket(code: number, reason: string): void;
};

export class SessionCalls {
  private readonly session: CallSession;
  private mutationChain: Promise<void> = Promise.resolve();

  constructor(session: CallSession) {
    this.session = session;
  }

  /**
   * Queues a client's mutation behind the session's earlier ones. `identity` and `sessionId` are
   * the session's when the message arrived.
   */
  enqueueMutation(
    requestId: number,
    udfPath: string,
    args: JSONValue[],
    componentPath: string | undefined,
    identity: Identity | null,
    sessionId: string | null,
  ): Promise<void> {
    this.mutationChain = this.mutationChain.then(async () => {
      if (this.session.isClosed()) return;
      if (this.session.refuseExpired()) return;
      const componentFailure = componentPath ? componentRefusal(componentPath) : null;
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
      const previous = key === null ? undefined : this.session.mutationLog.get(key);
      if (previous) {
        const outcome = await previous;
        if (outcome.success) {
          this.sendMutationSuccess(requestId, outcome);
          return;
        }
      }
      // Committed before this process started (a crash between commit and answer): the journal
      // kept its result with the commit.
      const durable = key === null ? undefined : this.session.runtime.committedReplay(key);
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
      if (key !== null) this.session.mutationLog.set(key, new Promise((r) => (settle = r)));
      const result = await this.runFunction("mutation", udfPath, args, identity, key ?? undefined);
      this.session.runtime.flush();
      if (result.ok) {
        const ts = result.ts ?? this.session.runtime.clock.current;
        const outcome: CommittedMutation = {
          success: true,
          result: result.value,
          ts,
          logLines: result.logLines,
        };
        settle?.(outcome);
        this.sendMutationSuccess(requestId, outcome);
      } else {
        if (key !== null) this.session.mutationLog.delete(key);
        settle?.({ success: false });
        this.sendMutationFailure(requestId, result);
      }
    });
    // Keep the chain alive: one failed link must not stop every later mutation on this socket.
    this.mutationChain = this.mutationChain.catch((error: unknown) => {
      console.error("[local backend] mutation handling failed:", error);
      this.session.closeSocket(1011, "InternalServerError: mutation handling failed");
    });
    return this.mutationChain;
  }

  /** A MutationResponse for a mutation that committed (or a replay of one); a Transition follows. */
  private sendMutationSuccess(requestId: number, outcome: CommittedMutation): void {
    this.session.send({
      type: "MutationResponse",
      requestId,
      success: true,
      result: outcome.result,
      ts: encodeTs(outcome.ts),
      logLines: outcome.logLines,
    });
    this.session.requireTransition();
  }

  private sendMutationFailure(requestId: number, result: Extract<FunctionResult, { ok: false }>): void {
    this.session.send({
      type: "MutationResponse",
      requestId,
      success: false,
      result: result.message,
      logLines: result.logLines,
      ...(result.errorData !== undefined ? { errorData: result.errorData } : {}),
    });
  }

  /** Runs a client's action at once (actions are not ordered); `identity` is the session's now. */
  async runAction(
    requestId: number,
    udfPath: string,
    args: JSONValue[],
    componentPath: string | undefined,
    identity: Identity | null,
  ): Promise<void> {
    if (this.session.refuseExpired()) return;
    const result: FunctionResult = componentPath
      ? componentRefusal(componentPath)
      : await this.runFunction("action", udfPath, args, identity);
    this.session.runtime.flush();
    if (result.ok) {
      this.session.send({
        type: "ActionResponse",
        requestId,
        success: true,
        result: result.value,
        logLines: result.logLines,
      });
    } else {
      this.session.send({
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
      return await this.session.runtime.run(
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
}
