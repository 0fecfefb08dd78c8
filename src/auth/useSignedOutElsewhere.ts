import { useAuth } from "@clerk/clerk-react";
import { useEffect, useRef, useState } from "react";

/**
 * True once this tab has been signed out by something that happened elsewhere (another tab's
 * "Sign out", a revoked device, a deleted account) rather than by the person using it: the session
 * ended while the tab did not have focus. Cleared by signing in again.
 */
export function useSignedOutElsewhere(): boolean {
  const { isLoaded, isSignedIn } = useAuth();
  const wasSignedIn = useRef<boolean | undefined>(undefined);
  const [elsewhere, setElsewhere] = useState(false);
  useEffect(() => {
    if (!isLoaded) return;
    const before = wasSignedIn.current;
    wasSignedIn.current = isSignedIn;
    // Both are answers to an external change (Clerk's session), not derived state.
    if (before && !isSignedIn && !document.hasFocus()) queueMicrotask(() => setElsewhere(true));
    if (isSignedIn) queueMicrotask(() => setElsewhere(false));
  }, [isLoaded, isSignedIn]);
  return elsewhere;
}
