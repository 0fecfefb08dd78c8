import { useConvexAuth } from "convex/react";
import type { ReactNode } from "react";
import { Navigate, useLocation } from "react-router-dom";
import { isAdmin, planIncludes, type Plan } from "../../convex/lib/permissions";
import { useAuthFacade } from "../auth/AuthContext";
import { useViewer } from "../auth/useViewer";

/** UX only: the server refuses the same things. These guards just avoid showing dead ends. */
export function RequireSignedIn({ children }: { children: ReactNode }) {
  const auth = useAuthFacade();
  const { isLoading } = useConvexAuth();
  const location = useLocation();
  if (!auth.isLoaded || isLoading) return <p className="muted center">Loading…</p>;
  if (!auth.isSignedIn) return <Navigate to="/sign-in" replace state={{ from: location.pathname }} />;
  return children;
}

export function RequireAdmin({ children }: { children: ReactNode }) {
  const viewer = useViewer();
  if (viewer === undefined) return <p className="muted center">Loading…</p>;
  if (!viewer || !isAdmin(viewer)) return <Denied text="This page is for administrators." />;
  return children;
}

export function RequirePlan({ plan, children }: { plan: Plan; children: ReactNode }) {
  const viewer = useViewer();
  if (viewer === undefined) return <p className="muted center">Loading…</p>;
  if (!viewer || !planIncludes(viewer.plan, plan)) {
    return <Denied text="Insights are part of the Pro plan. Ask an administrator to upgrade your account." />;
  }
  return children;
}

function Denied({ text }: { text: string }) {
  return (
    <section className="card" role="status">
      <h2>Not available</h2>
      <p>{text}</p>
    </section>
  );
}
