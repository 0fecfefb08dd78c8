import { useAuth } from "@clerk/clerk-react";
import { useConvexAuth } from "convex/react";
import { lazy, Suspense, useEffect, useRef } from "react";
import { SessionPending } from "../../app/guards";
import { Skeleton } from "../../components/Skeleton";
import { Landing } from "./Landing";

// Members' dashboard is its own chunk: a visitor's first page does not download it.
const Dashboard = lazy(() => import("../posts/Dashboard").then((m) => ({ default: m.Dashboard })));

/** `/`: the landing for visitors, the dashboard for members (once Convex has their token). */
export function Home() {
  const { isLoaded, isSignedIn } = useAuth();
  const { isLoading, isAuthenticated } = useConvexAuth();
  // Signed out while on the dashboard (here or elsewhere): the landing replaces it on the same URL,
  // so nothing resets the scroll. Show it from the top, with the header, not where the (on a phone,
  // long) dashboard had been scrolled to.
  const wasSignedIn = useRef(isSignedIn);
  useEffect(() => {
    if (wasSignedIn.current && isLoaded && !isSignedIn) window.scrollTo(0, 0);
    wasSignedIn.current = isSignedIn;
  }, [isLoaded, isSignedIn]);
  if (!isLoaded || (isSignedIn && isLoading)) return <p className="muted center">Loading…</p>;
  if (!isSignedIn) return <Landing />;
  if (!isAuthenticated) return <SessionPending />;
  return (
    <Suspense fallback={<Skeleton label="Loading your posts" />}>
      <Dashboard />
    </Suspense>
  );
}
