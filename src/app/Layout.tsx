import { NavLink, Outlet } from "react-router-dom";
import { hasPro, isAdmin } from "../../convex/lib/permissions";
import { useAuthFacade } from "../auth/AuthContext";
import { useViewer } from "../auth/useViewer";
import { ErrorBoundary } from "./ErrorBoundary";

export function Layout() {
  const auth = useAuthFacade();
  const viewer = useViewer();
  return (
    <div className="shell">
      <header className="topbar">
        <NavLink to="/" className="brand">
          <img src="/favicon.svg" alt="" width={24} height={24} /> Gatehouse
        </NavLink>
        {auth.isSignedIn && (
          <nav aria-label="Main">
            <NavLink to="/" end>
              My posts
            </NavLink>
            <NavLink to="/public">Public</NavLink>
            {viewer && hasPro(viewer) && <NavLink to="/insights">Insights</NavLink>}
            {viewer && isAdmin(viewer) && <NavLink to="/admin">Admin</NavLink>}
          </nav>
        )}
        <div className="account">
          {viewer && (
            <>
              <span className="who" title={viewer.email}>
                {viewer.name || viewer.email}
              </span>
              <span className={`badge plan-${viewer.plan}`}>{viewer.plan === "pro" ? "Pro" : "Free"}</span>
              {isAdmin(viewer) && <span className="badge role-admin">Admin</span>}
            </>
          )}
          {auth.isSignedIn && (
            <button className="link" onClick={() => void auth.signOut()}>
              Sign out
            </button>
          )}
        </div>
      </header>
      <main>
        <ErrorBoundary>
          <Outlet />
        </ErrorBoundary>
      </main>
    </div>
  );
}
