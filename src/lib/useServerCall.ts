import { useState } from "react";
import { errorMessage } from "./errors";

/**
 * Runs a call to a server (Convex or the identity provider), keeping its pending state and a
 * readable error for the UI. `describe` turns a failure into a sentence (Convex's typed errors by default).
 */
export function useServerCall(describe: (error: unknown) => string = errorMessage) {
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const run = async <T>(call: () => Promise<T>): Promise<T | undefined> => {
    setPending(true);
    setError(null);
    try {
      return await call();
    } catch (e) {
      setError(describe(e));
      return undefined;
    } finally {
      setPending(false);
    }
  };
  return { run, error, pending };
}
