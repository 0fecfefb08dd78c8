/**
 * Input bounds, taken from Convex's own backend (github.com/get-convex/convex-backend, read at
 * commit 94a42c3db) so that what works here works on Convex, and no single client can make the
 * local backend buffer or queue without bound.
 */

/**
 * One HTTP function-API request body (/api/query, /api/mutation, /api/action, /api/function, …):
 * 16 MiB + 2000 bytes. Convex's `MAX_BACKEND_PUBLIC_API_REQUEST_SIZE` (crates/common/src/knobs.rs,
 * "Must be at least 16 MiB for function arguments"), applied with `DefaultBodyLimit` to its
 * public API router (crates/local_backend/src/public_api.rs). 16 MiB is `FUNCTION_MAX_ARGS_SIZE`,
 * the largest argument any Convex function accepts (same knobs.rs).
 */
export const MAX_API_BODY_BYTES = (1 << 24) + 2000;

/**
 * One http action request body: 20 MiB, Convex's `HTTP_ACTION_BODY_LIMIT`
 * (crates/udf/src/http_action.rs), applied to its /http routes (crates/local_backend/src/router.rs).
 */
export const MAX_HTTP_ACTION_BODY_BYTES = 20 << 20;

/**
 * One WebSocket message: the same 16 MiB + 2000 bytes as an HTTP call. A sync message carries the
 * same thing (a function's arguments, at most 16 MiB on Convex, plus a few fields). Convex's socket
 * itself takes up to 64 MiB (axum's default) and then refuses any argument over 16 MiB, so a
 * larger message can never succeed there either; here it closes the socket with 1009 ("Message
 * Too Big", RFC 6455 §7.4.1) before it is buffered. The client reconnects on any close code.
 */
export const MAX_WS_MESSAGE_BYTES = MAX_API_BODY_BYTES;

/**
 * Client messages one socket may have received and not finished (queued, or a mutation or action
 * still running): 1000, Convex's `OPERATION_QUEUE_BUFFER_SIZE` (crates/sync/src/worker.rs), its
 * bound on pending mutations and on in-flight actions per WebSocket. One more closes the socket
 * as Convex does for rate-limit errors: code 1013 ("Try Again Later", its `CloseCode::Again`),
 * with a reason the client backs off 3 s for (`TooManyConcurrentRequests`,
 * convex/src/browser/sync/web_socket_manager.ts).
 */
export const MAX_PENDING_MESSAGES = 1000;

/**
 * Bytes one socket may hold (unfinished client messages, or our own frames the client has not
 * read yet) before we stop reading from it: one maximal message. Reading resumes when it drains,
 * so a fast sender is slowed by TCP instead of filling our memory.
 */
export const MAX_BUFFERED_BYTES = MAX_WS_MESSAGE_BYTES;

/**
 * Transitions sent to a socket and not yet flushed to it, before its update loop waits: 2,
 * Convex's `SYNC_MAX_SEND_TRANSITION_COUNT` (crates/common/src/knobs.rs: "the web socket worker
 * will temporary stop computing and sending transition messages"). A client that stops reading
 * then gets one up-to-date Transition when it resumes, not every intermediate one.
 */
export const MAX_UNFLUSHED_TRANSITIONS = 2;

/**
 * How deeply a value may nest: 64 levels, Convex's `MAX_NESTING` (crates/value/src/size.rs; a
 * primitive is 0, an array of numbers 1). Past it Convex answers `TooNestedError`. Here the check
 * also keeps a 100 000-level argument from overflowing the stack of the recursive conversions
 * that follow it.
 */
export const MAX_VALUE_NESTING = 64;

/** Whether `value` nests deeper than `max`; iterative, so any depth is safe to ask. */
export function nestsDeeperThan(value: unknown, max = MAX_VALUE_NESTING): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (item === null || typeof item !== "object") continue;
    if (depth + 1 > max) return true;
    for (const child of Array.isArray(item) ? item : Object.values(item)) stack.push([child, depth + 1]);
  }
  return false;
}
