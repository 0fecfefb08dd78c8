import { useConvexConnectionState } from "convex/react";
import { useEffect, useState } from "react";

/** A blip shorter than this (a token refresh, a quick reconnect) is not worth a banner. */
const GRACE_MS = 1_500;
/** Requests waiting longer than this are called out even while the socket looks connected. */
const STALLED_MS = 10_000;

/**
 * Says when the app cannot reach the server: "Reconnecting…" once the connection has been down
 * for a moment, and that changes made meanwhile are kept and will be sent. Silent otherwise.
 */
export function ConnectionIndicator() {
  const state = useConvexConnectionState();
  const [now, setNow] = useState(() => Date.now());
  // The outage (named by the connection count it follows) whose grace period has run out.
  const [overdueOutage, setOverdueOutage] = useState<number | null>(null);
  const down = state.hasEverConnected && !state.isWebSocketConnected;
  const outage = state.connectionCount;

  useEffect(() => {
    if (!down) return;
    const timer = setTimeout(() => setOverdueOutage(outage), GRACE_MS);
    return () => clearTimeout(timer);
  }, [down, outage]);
  useEffect(() => {
    if (!state.hasInflightRequests) return;
    const timer = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(timer);
  }, [state.hasInflightRequests]);

  const oldest = state.timeOfOldestInflightRequest?.getTime();
  const stalled = oldest !== undefined && now - oldest > STALLED_MS;
  const showDown = down && overdueOutage === outage;
  if (!showDown && !stalled) return null;
  return (
    <div className="connection" role="status">
      {showDown ? "Reconnecting…" : "The server is slow to answer…"}
      {state.hasInflightRequests && " Your changes are kept and will be sent."}
    </div>
  );
}
