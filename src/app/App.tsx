import { lazy, Suspense, type ReactNode } from "react";
import { BrowserRouter, Route, Routes, useLocation } from "react-router-dom";
import { Home } from "../features/landing/Home";
import { NotFound } from "../features/notFound/NotFound";
import { Pricing } from "../features/pricing/Pricing";
import { ToastProvider } from "../components/toast/ToastProvider";
import { AuthProvider } from "./AuthProvider";
import { SignInPage, SignUpPage } from "./authPages";
import { ErrorBoundary } from "./ErrorBoundary";
import { RequireAdmin, RequireSignedIn } from "./guards";
import { Layout } from "./Layout";

// What a first visit (the landing) does not need is split off and loaded on the way.
const Insights = lazy(() => import("../features/insights/Insights"));
const InsightsGate = lazy(() =>
  import("../features/insights/InsightsGate").then((m) => ({ default: m.InsightsGate })),
);
const AdminPage = lazy(() => import("../features/admin/AdminPage"));
const PublicFeed = lazy(() =>
  import("../features/posts/PublicFeed").then((m) => ({ default: m.PublicFeed })),
);
const AccountPage = lazy(() =>
  import("../features/account/AccountPage").then((m) => ({ default: m.AccountPage })),
);
const Onboarding = lazy(() =>
  import("../features/onboarding/Onboarding").then((m) => ({ default: m.Onboarding })),
);

const loading = <p className="muted center">Loading…</p>;

const signedIn = (page: ReactNode) => <RequireSignedIn>{page}</RequireSignedIn>;
/** A page split into its own chunk (loaded on first visit). */
const lazyPage = (page: ReactNode) => <Suspense fallback={loading}>{page}</Suspense>;

export function App() {
  return (
    <BrowserRouter>
      <AuthProvider>
        <ToastProvider>
          <AppRoutes />
        </ToastProvider>
      </AuthProvider>
    </BrowserRouter>
  );
}

/**
 * The header queries the viewer too, so a refusal there (a deleted account) is caught here as well;
 * keyed by path, so navigating away (to sign-in, after the session ends) starts afresh.
 */
function AppRoutes() {
  const { pathname } = useLocation();
  return (
    <ErrorBoundary key={pathname}>
      <Routes>
        <Route element={<Layout />}>
          {/* Clerk's own components; `path` routing keeps their steps (factor two, code) in the URL.
              A signed-in visitor is sent on by the components themselves, to the return target. */}
          <Route path="/sign-in/*" element={<SignInPage />} />
          <Route path="/sign-up/*" element={<SignUpPage />} />
          <Route path="/onboarding" element={signedIn(lazyPage(<Onboarding />))} />
          <Route path="/account/*" element={signedIn(lazyPage(<AccountPage />))} />
          {/* The landing for visitors, the dashboard for members. */}
          <Route path="/" element={<Home />} />
          <Route path="/pricing" element={<Pricing />} />
          <Route path="/public" element={lazyPage(<PublicFeed />)} />
          <Route
            path="/insights"
            element={signedIn(lazyPage(<InsightsGate>{lazyPage(<Insights />)}</InsightsGate>))}
          />
          <Route path="/admin" element={signedIn(<RequireAdmin>{lazyPage(<AdminPage />)}</RequireAdmin>)} />
          <Route path="*" element={<NotFound />} />
        </Route>
      </Routes>
    </ErrorBoundary>
  );
}
