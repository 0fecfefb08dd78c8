import { useAuth } from "@clerk/clerk-react";
import { useConvexAuth } from "convex/react";
import { Dashboard } from "../posts/Dashboard";
import { Landing } from "./Landing";

/** `/`: the landing for visitors, the dashboard for members (once Convex has their token). */
export function Home() {
  const { isLoaded, isSignedIn } = useAuth();
  const { isLoading } = useConvexAuth();
  if (!isLoaded || (isSignedIn && isLoading)) return <p className="muted center">Loading…</p>;
  return isSignedIn ? <Dashboard /> : <Landing />;
}
