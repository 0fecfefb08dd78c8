import { useAuth } from "@clerk/clerk-react";
import { useConvexAuth } from "convex/react";
import { lazy, Suspense } from "react";
import { Skeleton } from "../../components/Skeleton";
import { Landing } from "./Landing";

// Members' dashboard is its own chunk: a visitor's first page does not download it.
const Dashboard = lazy(() => import("../posts/Dashboard").then((m) => ({ default: m.Dashboard })));

/** `/`: the landing for visitors, the dashboard for members (once Convex has their token). */
export function Home() {
  const { isLoaded, isSignedIn } = useAuth();
  const { isLoading } = useConvexAuth();
  if (!isLoaded || (isSignedIn && isLoading)) return <p className="muted center">Loading…</p>;
  if (!isSignedIn) return <Landing />;
  return (
    <Suspense fallback={<Skeleton label="Loading your posts" />}>
      <Dashboard />
    </Suspense>
  );
}
