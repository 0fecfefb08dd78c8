import { useConvexAuth, useMutation, useQuery } from "convex/react";
import { useEffect, useRef } from "react";
import { api } from "../../convex/_generated/api";

/**
 * The signed-in viewer as the server sees it (effective role and plan), or null/undefined
 * while signed out/loading. Makes sure a users row exists even before Clerk's webhook lands.
 */
export function useViewer() {
  const { isAuthenticated } = useConvexAuth();
  const viewer = useQuery(api.users.me, isAuthenticated ? {} : "skip");
  const ensure = useMutation(api.users.ensure);
  const ensured = useRef(false);
  useEffect(() => {
    if (viewer && !viewer.synced && !ensured.current) {
      ensured.current = true;
      ensure({}).catch(() => (ensured.current = false));
    }
  }, [viewer, ensure]);
  return isAuthenticated ? viewer : null;
}
