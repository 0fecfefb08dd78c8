import { ConvexError } from "convex/values";

/**
 * The one map of error codes. Every expected failure leaves a public function as
 * `ConvexError({ code, message, ...details })`, so clients branch on `code`, never on text.
 */
export const ErrorCode = {
  UNAUTHENTICATED: "UNAUTHENTICATED",
  FORBIDDEN: "FORBIDDEN",
  UPGRADE_REQUIRED: "UPGRADE_REQUIRED",
  NOT_FOUND: "NOT_FOUND",
  INVALID_INPUT: "INVALID_INPUT",
  RATE_LIMITED: "RATE_LIMITED",
  /** Clerk's Backend API failed or is not configured; the call changed nothing here. */
  UPSTREAM_ERROR: "UPSTREAM_ERROR",
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export type AppErrorData = {
  code: ErrorCode;
  message: string;
  [detail: string]: unknown;
};

export function appError(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
  return new ConvexError({ ...details, code, message } as AppErrorData & Record<string, never>);
}

export function fail(code: ErrorCode, message: string, details: Record<string, unknown> = {}): never {
  throw appError(code, message, details);
}

/** Reads an error code back from anything thrown (used by tests and the client). */
export function errorCodeOf(error: unknown): ErrorCode | undefined {
  if (error instanceof ConvexError) {
    const data = error.data as { code?: unknown } | undefined;
    if (data && typeof data.code === "string" && data.code in ErrorCode) return data.code as ErrorCode;
  }
  return undefined;
}
