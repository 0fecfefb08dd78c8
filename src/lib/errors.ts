import { ConvexError } from "convex/values";
import { errorCodeOf, type AppErrorData, type ErrorCode } from "../../convex/lib/errors";

const messages: Record<ErrorCode, string> = {
  UNAUTHENTICATED: "Please sign in again.",
  FORBIDDEN: "You are not allowed to do that.",
  UPGRADE_REQUIRED: "That needs the Pro plan.",
  NOT_FOUND: "That no longer exists.",
  INVALID_INPUT: "Please check what you entered.",
  RATE_LIMITED: "Slow down a little and try again.",
  UPSTREAM_ERROR: "The identity service is unavailable; nothing was changed.",
};

/** The server's error code of a refusal (the same reader the server's tests use). */
export const errorCode = errorCodeOf;

/** A sentence for the user: the server's own message for typed errors, a generic one otherwise. */
export function errorMessage(error: unknown): string {
  if (error instanceof ConvexError) {
    const data = error.data as AppErrorData;
    if (data.code === "RATE_LIMITED" && typeof data.retryAfterMs === "number") {
      return `Too many changes at once; try again in ${Math.ceil(data.retryAfterMs / 1000)} s.`;
    }
    return data.message || messages[data.code] || "Something went wrong.";
  }
  return "Something went wrong. Please try again.";
}
