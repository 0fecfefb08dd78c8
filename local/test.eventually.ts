/**
 * Polling for tests: waits for state that callbacks, sockets or child processes change. The one
 * implementation behind `test.backend.ts`'s and `test.idp.ts`'s `eventually` (both re-export it),
 * and the security and reliability suites' waits.
 */

/** How often the condition is checked (the first check is at once). */
const POLL_MS = 10;

/**
 * Polls until `condition` holds; rejects after timeoutMs (default 5 s), saying what was awaited
 * (`waitingFor`) when given.
 */
export function eventually(
  condition: () => boolean,
  timeoutMs?: number,
  waitingFor?: () => string,
): Promise<void>;
/**
 * Polls `get` (which may answer asynchronously, as a request does) until `predicate` holds for its
 * value, and resolves with that value; rejects after timeoutMs (default 10 s).
 */
export function eventually<T>(
  get: () => T | Promise<T>,
  predicate: (value: T) => boolean,
  timeoutMs?: number,
): Promise<T>;
export async function eventually<T>(
  get: () => T | Promise<T>,
  predicateOrTimeoutMs?: ((value: T) => boolean) | number,
  timeoutOrWaitingFor?: number | (() => string),
): Promise<T | void> {
  const valueForm = typeof predicateOrTimeoutMs === "function";
  const holds = valueForm ? predicateOrTimeoutMs : (value: T) => Boolean(value);
  const timeoutMs = valueForm
    ? ((timeoutOrWaitingFor as number | undefined) ?? 10_000)
    : (predicateOrTimeoutMs ?? 5_000);
  const waitingFor = typeof timeoutOrWaitingFor === "function" ? timeoutOrWaitingFor : undefined;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await get();
    if (holds(value)) return valueForm ? value : undefined;
    if (Date.now() > deadline)
      throw new Error(
        valueForm
          ? `timed out waiting for a matching value; last: ${JSON.stringify(value)}`
          : `condition not met within ${timeoutMs} ms${waitingFor ? `: ${waitingFor()}` : ""}`,
      );
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
