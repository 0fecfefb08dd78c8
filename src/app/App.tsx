import { lazy, Suspense } from "react";
import { BrowserRouter, Navigate, Route, Routes } from "react-router-dom";
import { useAuthFacade } from "../auth/AuthContext";
import { Dashboard } from "../features/posts/Dashboard";
import { PublicFeed } from "../features/posts/PublicFeed";
import { AuthProvider } from "./AuthProvider";
import { RequireAdmin, RequirePlan, RequireSignedIn } from "./guards";
import { Layout } from "./Layout";

const Insights = lazy(() => import("../features/insights/Insights"));
const AdminPage = lazy(() => import("../features/admin/AdminPage"));

function SignInRoute() {
  const { SignInView, isSignedIn } = useAuthFacade();
  return isSignedIn ? <Navigate to="/" replace /> : <SignInView />;
}
function SignUpRoute() {
  const { SignUpView, isSignedIn } = useAuthFacade();
  return isSignedIn ? <Navigate to="/" replace /> : <SignUpView />;
}

const loading = <p className="muted center">Loading…</p>;

export function App() {
  return (
    <BrowserRouter>
      <AuthProvider>
        <Routes>
          <Route element={<Layout />}>
            <Route path="/sign-in/*" element={<SignInRoute />} />
            <Route path="/sign-up/*" element={<SignUpRoute />} />
            <Route
              path="/"
              element={
                <RequireSignedIn>
                  <Dashboard />
                </RequireSignedIn>
              }
            />
            <Route
              path="/public"
              element={
                <RequireSignedIn>
                  <PublicFeed />
                </RequireSignedIn>
              }
            />
            <Route
              path="/insights"
              element={
                <RequireSignedIn>
                  <RequirePlan plan="pro">
                    <Suspense fallback={loading}>
                      <Insights />
                    </Suspense>
                  </RequirePlan>
                </RequireSignedIn>
              }
            />
            <Route
              path="/admin"
              element={
                <RequireSignedIn>
                  <RequireAdmin>
                    <Suspense fallback={loading}>
                      <AdminPage />
                    </Suspense>
                  </RequireAdmin>
                </RequireSignedIn>
              }
            />
            <Route path="*" element={<Navigate to="/" replace />} />
          </Route>
        </Routes>
      </AuthProvider>
    </BrowserRouter>
  );
}
