import { useCallback, useRef, useState } from "react";
import { errorCode, errorMessage } from "../../lib/errors";
import type { ErrorCode } from "../../../convex/lib/errors";

/** How long a write may take before the form stops waiting for it. */
export const SLOW_MS = 10_000;

export type CallOutcome<T> =
  | { ok: true; value: T; late: boolean }
  | { ok: false; code: ErrorCode | undefined; message: string; late: boolean };

/**
 * Runs a Convex write for a form. After SLOW_MS without an answer the form is released and says
 * so (`slow`): the Convex client keeps the write queued and sends it when the connection returns,
 * and the caller learns the outcome then (`late: true`). Failures never throw: expected refusals
 * come back as a code and a sentence.
 */
export function usePatientCall(slowMs = SLOW_MS) {
  const [pending, setPending] = useState(false);
  const [slow, setSlow] = useState(false);
  const inFlight = useRef(0);
  const run = useCallback(
    async <T>(call: () => Promise<T>): Promise<CallOutcome<T>> => {
      const ticket = ++inFlight.current;
      let late = false;
      setPending(true);
      setSlow(false);
      const timer = setTimeout(() => {
        late = true;
        if (inFlight.current === ticket) {
          setPending(false);
          setSlow(true);
        }
      }, slowMs);
      try {
        return { ok: true, value: await call(), late };
      } catch (error) {
        return { ok: false, code: errorCode(error), message: errorMessage(error), late };
      } finally {
        clearTimeout(timer);
        if (inFlight.current === ticket) {
          setPending(false);
          setSlow(false);
        }
      }
    },
    [slowMs],
  );
  return { run, pending, slow };
}
