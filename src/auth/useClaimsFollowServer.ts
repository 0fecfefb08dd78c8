import { useAuth } from "@clerk/clerk-react";
import { useEffect, useRef } from "react";
import type { Plan, Role } from "../../convex/lib/permissions";

/**
 * The session token's role and plan claims lag a change by up to a token lifetime; the synced
 * users row has it at once. When the row's role or plan changes, fetch a fresh token so that
 * `has()` and `<Protect>` agree with what the server enforces.
 */
export function useClaimsFollowServer(viewer: { role: Role; plan: Plan } | null | undefined) {
  const { getToken } = useAuth();
  const seen = useRef<string | null>(null);
  const key = viewer ? `${viewer.role}/${viewer.plan}` : null;
  useEffect(() => {
    if (key === null) {
      seen.current = null;
      return;
    }
    const previous = seen.current;
    seen.current = key;
    if (previous !== null && previous !== key) void getToken({ skipCache: true }).catch(() => undefined);
  }, [key, getToken]);
}
