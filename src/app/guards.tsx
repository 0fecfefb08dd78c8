import { useAuth } from "@clerk/clerk-react";
import { useConvexAuth } from "convex/react";
import type { ReactNode } from "react";
import { Navigate, useLocation } from "react-router-dom";
import { isAdmin, planIncludes, type Plan } from "../../convex/lib/permissions";
import { useViewer } from "../auth/useViewer";
import { safeReturnTo, withReturnTo } from "../lib/returnTo";

const loading = <p className="muted center">Loading…</p>;

/** UX only: the server refuses the same things. These guards just avoid showing dead ends. */
export function RequireSignedIn({ children }: { children: ReactNode }) {
  const { isLoaded, isSignedIn } = useAuth();
  const { isLoading, isAuthenticated } = useConvexAuth();
  const location = useLocation();
  if (!isLoaded || (isSignedIn && isLoading)) return loading;
  // Signed in with Clerk, but Convex has no token it accepts (yet): its pages would only fail.
  if (isSignedIn && !isAuthenticated) return <SessionPending />;
  if (!isSignedIn) {
    // Back here after signing in: the path, its query and its fragment (validated like any other).
    const here = safeReturnTo(`${location.pathname}${location.search}${location.hash}`);
    return <Navigate to={withReturnTo("/sign-in", here)} replace />;
  }
  return children;
}

/** Clerk has a session the server has not accepted: the provider keeps fetching a token. */
export function SessionPending() {
  return (
    <p className="muted center" role="status">
      Connecting your session to the server…
    </p>
  );
}

export function RequireAdmin({ children }: { children: ReactNode }) {
  const viewer = useViewer();
  if (viewer === undefined) return loading;
  if (!viewer || !isAdmin(viewer)) return <Denied text="This page is for administrators." />;
  return children;
}

/** The plan as the server's synced row has it (fresher than a session token's claims). */
export function RequirePlan({
  plan,
  fallback,
  children,
}: {
  plan: Plan;
  fallback: ReactNode;
  children: ReactNode;
}) {
  const viewer = useViewer();
  if (viewer === undefined) return loading;
  if (!viewer || !planIncludes(viewer.plan, plan)) return fallback;
  return children;
}

export function Denied({ text }: { text: string }) {
  return (
    <section className="card" role="status">
      <h2>Not available</h2>
      <p>{text}</p>
    </section>
  );
}
