/**
 * Polling for tests: waits for state that callbacks, sockets or child processes change. The one
 * implementation behind `test.backend.ts`'s and `test.idp.ts`'s `eventually` (both re-export it).
 */

/** How often the condition is checked (the first check is at once). */
const POLL_MS = 10;

/** Polls until `condition` holds; rejects after timeoutMs (default 5 s). */
export function eventually(condition: () => boolean, timeoutMs?: number): Promise<void>;
/** Polls `get` until `predicate` holds for its value (for values that callbacks assign) and resolves with that value; rejects after timeoutMs (default 10 s). */
export function eventually<T>(get: () => T, predicate: (value: T) => boolean, timeoutMs?: number): Promise<T>;
export async function eventually<T>(
  get: () => T,
  predicateOrTimeoutMs?: ((value: T) => boolean) | number,
  valueTimeoutMs?: number,
): Promise<T | void> {
  const valueForm = typeof predicateOrTimeoutMs === "function";
  const holds = valueForm ? predicateOrTimeoutMs : (value: T) => Boolean(value);
  const timeoutMs = valueForm ? (valueTimeoutMs ?? 10_000) : (predicateOrTimeoutMs ?? 5_000);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = get();
    if (holds(value)) return valueForm ? value : undefined;
    if (Date.now() > deadline)
      throw new Error(
        valueForm
          ? `timed out waiting for a matching value; last: ${JSON.stringify(value)}`
          : `condition not met within ${timeoutMs} ms`,
      );
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
