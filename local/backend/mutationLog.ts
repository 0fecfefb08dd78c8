/**
 * Committed mutations, kept so that a client resending what was in flight when its socket dropped
 * (the convex client resends every unanswered mutation on reconnect) gets the original result
 * instead of running it twice.
 *
 * The client names a request by (sessionId, requestId), but a session id is just a string in the
 * Connect frame: anyone can present someone else's. So an entry is keyed by everything a genuine
 * resend repeats: session id, request id, the caller's identity (issuer and subject, which stay the
 * same across token refreshes; none for anonymous), the function and its arguments. A request that
 * differs in any of them is a new request and runs as one; it can neither read nor overwrite
 * another caller's entry. (Convex keys its record by session and request id alone, with session
 * ids that are unguessable UUIDs; binding the identity closes the forged-session case locally.)
 */
import { createHash } from "node:crypto";
import type { JSONValue } from "convex/values";
import type { Identity } from "./auth.ts";
import { canonicalizeUdfPath } from "./protocol.ts";

/** Entries kept; the oldest go first (a client resends within seconds, not days). */
const LIMIT = 10_000;

export type CommittedMutation = { success: true; result: JSONValue; ts: bigint; logLines: string[] };
export type MutationOutcome = CommittedMutation | { success: false };

export type MutationRequest = {
  sessionId: string;
  requestId: number;
  identity: Identity | null;
  udfPath: string;
  args: JSONValue;
};

/** JSON with object keys sorted, so the same arguments always hash the same. */
function canonicalJson(value: JSONValue): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] as JSONValue)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The log key of a request: a hash, so arguments of up to 16 MiB are not kept in the map. */
export function replayKey(request: MutationRequest): string {
  const who = request.identity === null ? null : [request.identity.issuer, request.identity.subject];
  return createHash("sha256")
    .update(JSON.stringify([request.sessionId, request.requestId, who, canonicalizeUdfPath(request.udfPath)]))
    .update("\n")
    .update(canonicalJson(request.args))
    .digest("base64url");
}

/**
 * Successful mutations by `replayKey` (failed ones are simply retried), in memory: this also
 * makes a resend that arrives while the first run is still going wait for it. The durable copy of
 * each record is journaled with its commit (journal.ts), for resends that arrive after a restart.
 */
export class MutationLog {
  private readonly map = new Map<string, Promise<MutationOutcome>>();

  get(key: string): Promise<MutationOutcome> | undefined {
    return this.map.get(key);
  }

  set(key: string, outcome: Promise<MutationOutcome>): void {
    this.map.set(key, outcome);
    if (this.map.size > LIMIT) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
  }

  delete(key: string): void {
    this.map.delete(key);
  }
}
