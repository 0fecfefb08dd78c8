/**
 * Convex wire-protocol helpers shared by the sync (WebSocket) and HTTP layers: u64 timestamps,
 * function paths, error text, log lines, message shapes. The shapes are the `convex` client's:
 * https://github.com/get-convex/convex-backend/blob/main/npm-packages/convex/src/browser/sync/protocol.ts.
 */
import { randomBytes } from "node:crypto";
import { inspect } from "node:util";
import { convexToJson, type JSONValue, type Value } from "convex/values";

/** The convex npm version this backend speaks for (`GET /version`). */
export const CONVEX_VERSION = "1.48.0";

/** u64 → base64 of 8 little-endian bytes, padded (the client's `longToU64`). */
export function encodeTs(ts: bigint): string {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(ts);
  return b.toString("base64");
}

export function decodeTs(encoded: string): bigint {
  const b = Buffer.from(encoded, "base64");
  if (b.length !== 8) throw new Error(`Invalid u64 timestamp: ${encoded}`);
  return b.readBigUInt64LE();
}

/**
 * The deployment clock: nanoseconds since the epoch, strictly increasing per commit and
 * started from the wall clock, so it stays monotonic across restarts (and below 2^63).
 */
export class Clock {
  private last = 0n;

  /** The latest commit timestamp (or the start time, before any commit). */
  get current(): bigint {
    return this.last;
  }

  /** Assigns the next commit timestamp. */
  next(): bigint {
    const now = BigInt(Date.now()) * 1_000_000n;
    this.last = now > this.last ? now : this.last + 1n;
    return this.last;
  }

  advanceTo(ts: bigint): void {
    if (ts > this.last) this.last = ts;
  }
}

/**
 * "mod" → "mod:default", "mod.js:fn" → "mod:fn", as the `convex` client canonicalizes paths
 * (npm-packages/convex/src/browser/sync/udf_path_utils.ts in get-convex/convex-backend).
 */
export function canonicalizeUdfPath(udfPath: string): string {
  const pieces = udfPath.split(":");
  let moduleName: string;
  let functionName: string;
  if (pieces.length === 1) {
    moduleName = pieces[0] ?? "";
    functionName = "default";
  } else {
    moduleName = pieces.slice(0, -1).join(":");
    functionName = pieces[pieces.length - 1] ?? "default";
  }
  if (moduleName.endsWith(".js")) moduleName = moduleName.slice(0, -3);
  return `${moduleName}:${functionName}`;
}

/** Collapses duplicate slashes in the path part of a raw request target (before URL parsing). */
export function normalizeRequestTarget(rawUrl: string): string {
  const q = rawUrl.search(/[?#]/);
  const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const rest = q === -1 ? "" : rawUrl.slice(q);
  const collapsed = ("/" + path).replace(/\/{2,}/g, "/");
  return collapsed + rest;
}

/**
 * The URL of a raw request target against `base`, or null when it is not one (e.g. `/\[`,
 * which WHATWG parsing reads as a protocol-relative URL with an invalid host). Callers answer
 * 400: `new URL` throwing inside a request or upgrade handler must never reach the process.
 */
export function parseRequestTarget(rawUrl: string, base: string): URL | null {
  try {
    return new URL(normalizeRequestTarget(rawUrl), base);
  } catch {
    return null;
  }
}

export function newRequestId(): string {
  return randomBytes(8).toString("hex");
}

/** The text Convex puts in `errorMessage` / `result` for a failed function. */
export function serverErrorMessage(requestId: string, name: string, message: string): string {
  return `[Request ID: ${requestId}] Server Error\nUncaught ${name}: ${message}`;
}

/** A `ConvexError`, recognised as `convex/values` marks it (`Symbol.for("ConvexError")`), whichever copy of the class threw it. */
export function isConvexError(e: unknown): e is Error & { data: Value } {
  return typeof e === "object" && e !== null && Symbol.for("ConvexError") in e;
}

/** A thrown value as Convex reports it: message text plus `errorData` only for ConvexError. */
export function failureOf(e: unknown, logLines: string[]): FunctionResult {
  const requestId = newRequestId();
  if (isConvexError(e)) {
    let errorData: JSONValue;
    try {
      errorData = convexToJson(e.data === undefined ? null : e.data);
    } catch {
      errorData = null;
    }
    return {
      ok: false,
      message: serverErrorMessage(requestId, "ConvexError", e.message),
      errorData,
      logLines,
      journal: null,
    };
  }
  const name = e instanceof Error ? e.name : "Error";
  const message = e instanceof Error ? e.message : String(e);
  return { ok: false, message: serverErrorMessage(requestId, name, message), logLines, journal: null };
}

export type LogLevel = "DEBUG" | "ERROR" | "WARN" | "INFO" | "LOG";

/** `[LEVEL] arg arg` with object-inspect-like formatting (strings single-quoted), as Convex does. */
export function formatLogLine(level: LogLevel, args: readonly unknown[]): string {
  const parts = args.map((a) => inspect(a, { depth: 5, breakLength: Infinity }));
  return `[${level}] ${parts.join(" ")}`;
}

/** The result of one function execution as both the WS and HTTP layers report it. */
export type FunctionResult =
  | { ok: true; value: JSONValue; logLines: string[]; journal: string | null; ts?: bigint }
  | { ok: false; message: string; errorData?: JSONValue; logLines: string[]; journal: string | null };

/** Components are admin-only on Convex: a client's call of a component's function fails with this. */
export function componentRefusal(componentPath: string): Extract<FunctionResult, { ok: false }> {
  return {
    ok: false,
    message: `Calling functions of component "${componentPath}" requires admin auth`,
    logLines: [],
    journal: null,
  };
}

export type UdfType = "query" | "mutation" | "action";

// ---- WebSocket message shapes (npm-packages/convex/src/browser/sync/protocol.ts, linked above) ----

export type EncodedStateVersion = { querySet: number; identity: number; ts: string };

export type AddQuery = {
  type: "Add";
  queryId: number;
  udfPath: string;
  args: JSONValue[];
  journal?: string | null;
  componentPath?: string;
};
export type RemoveQuery = { type: "Remove"; queryId: number };

export type ClientMessage =
  | {
      type: "Connect";
      sessionId: string;
      connectionCount: number;
      lastCloseReason: string | null;
      maxObservedTimestamp?: string;
      clientTs?: number;
    }
  | {
      type: "ModifyQuerySet";
      baseVersion: number;
      newVersion: number;
      modifications: (AddQuery | RemoveQuery)[];
    }
  | { type: "Mutation"; requestId: number; udfPath: string; args: JSONValue[]; componentPath?: string }
  | { type: "Action"; requestId: number; udfPath: string; args: JSONValue[]; componentPath?: string }
  | {
      type: "Authenticate";
      tokenType: "User" | "Admin";
      value: string;
      baseVersion: number;
      impersonating?: unknown;
    }
  | { type: "Authenticate"; tokenType: "None"; baseVersion: number }
  | { type: "Event"; eventType: string; event: unknown };

export type StateModification =
  | { type: "QueryUpdated"; queryId: number; value: JSONValue; logLines: string[]; journal: string | null }
  | {
      type: "QueryFailed";
      queryId: number;
      errorMessage: string;
      logLines: string[];
      journal: string | null;
      errorData?: JSONValue;
    }
  | { type: "QueryRemoved"; queryId: number };

export type ServerMessage =
  | {
      type: "Transition";
      startVersion: EncodedStateVersion;
      endVersion: EncodedStateVersion;
      modifications: StateModification[];
      clientClockSkew?: number;
      serverTs?: number;
    }
  | {
      type: "MutationResponse";
      requestId: number;
      success: true;
      result: JSONValue;
      ts: string;
      logLines: string[];
    }
  | {
      type: "MutationResponse";
      requestId: number;
      success: false;
      result: string;
      logLines: string[];
      errorData?: JSONValue;
    }
  | { type: "ActionResponse"; requestId: number; success: true; result: JSONValue; logLines: string[] }
  | {
      type: "ActionResponse";
      requestId: number;
      success: false;
      result: string;
      logLines: string[];
      errorData?: JSONValue;
    }
  | { type: "AuthError"; error: string; baseVersion: number; authUpdateAttempted: boolean }
  | { type: "FatalError"; error: string }
  | { type: "Ping" };
