import { ClerkFailed, SignedIn, SignedOut, UserButton } from "@clerk/clerk-react";
import { NavLink, Outlet, useLocation } from "react-router-dom";
import { hasPro, isAdmin } from "../../convex/lib/permissions";
import { useViewer } from "../auth/useViewer";
import { useClaimsFollowServer } from "../auth/useClaimsFollowServer";
import { useSignedOutElsewhere } from "../auth/useSignedOutElsewhere";
import { ConnectionIndicator } from "../components/ConnectionIndicator";
import { PLAN_LABEL } from "../lib/plans";
import { ErrorBoundary } from "./ErrorBoundary";

export function Layout() {
  const viewer = useViewer();
  const { pathname } = useLocation();
  useClaimsFollowServer(viewer);
  const signedOutElsewhere = useSignedOutElsewhere();
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <NavLink to="/" end className={() => "brand"}>
          <img src="/favicon.svg" alt="" width={24} height={24} /> Gatehouse
        </NavLink>
        <SignedIn>
          <nav aria-label="Main">
            <NavLink to="/" end>
              My posts
            </NavLink>
            <NavLink to="/public">Public</NavLink>
            {viewer && hasPro(viewer) && <NavLink to="/insights">Insights</NavLink>}
            {viewer && isAdmin(viewer) && <NavLink to="/admin">Admin</NavLink>}
          </nav>
        </SignedIn>
        <SignedOut>
          <nav aria-label="Main">
            <NavLink to="/public">Public posts</NavLink>
            <NavLink to="/pricing">Pricing</NavLink>
          </nav>
        </SignedOut>
        <div className="account">
          {viewer && (
            <>
              <span className={`badge plan-${viewer.plan}`}>{PLAN_LABEL[viewer.plan]}</span>
              {isAdmin(viewer) && <span className="badge role-admin">Admin</span>}
            </>
          )}
          <SignedIn>
            {/* No visible name: its button's accessible name ("Open user button") would not match it. */}
            <UserButton userProfileUrl="/account" userProfileMode="navigation" />
          </SignedIn>
          <SignedOut>
            <NavLink to="/sign-in">Sign in</NavLink>
            <NavLink to="/sign-up">Sign up</NavLink>
          </SignedOut>
        </div>
      </header>
      <ConnectionIndicator />
      {signedOutElsewhere && (
        <p className="notice" role="status">
          You were signed out in another tab or on another device. Sign in again to continue.
        </p>
      )}
      {/* The skip link's target: focusable from script, not a tab stop. */}
      <main id="main" tabIndex={-1}>
        <ClerkFailed>
          <section className="card" role="alert">
            <h2>Sign-in is unavailable</h2>
            <p>Clerk could not be loaded. Check your connection and reload the page.</p>
          </section>
        </ClerkFailed>
        {/* Inside the layout, so a page's failure keeps the header and its way out; the boundary
            in App.tsx catches what the header itself throws. */}
        <ErrorBoundary key={pathname}>
          <Outlet />
        </ErrorBoundary>
      </main>
    </div>
  );
}
