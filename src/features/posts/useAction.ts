import { useState } from "react";
import { errorMessage } from "../../lib/errors";

/** Runs a server call, keeping its pending state and a readable error for the UI. */
export function useServerCall() {
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const run = async <T>(call: () => Promise<T>): Promise<T | undefined> => {
    setPending(true);
    setError(null);
    try {
      return await call();
    } catch (e) {
      setError(errorMessage(e));
      return undefined;
    } finally {
      setPending(false);
    }
  };
  return { run, error, pending, clearError: () => setError(null) };
}
