import { Link } from "react-router-dom";
import { usePageTitle } from "../../components/usePageTitle";
import { PlanCards } from "./PlanCards";
import { lazy, Suspense } from "react";
import "./landing.css";

// Offline only: `npm start` sets VITE_CLERK_JS_URL, a production build does not, so this branch and
// the seeded accounts' chunk are left out of production builds entirely.
const DevHints = import.meta.env.VITE_CLERK_JS_URL
  ? lazy(() => import("./DevHints").then((m) => ({ default: m.DevHints })))
  : null;

/** What a signed-out visitor of `/` sees: what Gatehouse is, its plans, and the way in. */
export function Landing() {
  usePageTitle("Realtime posts, authorized on the server");
  return (
    <div className="landing">
      <section className="hero" aria-labelledby="landing-title">
        <h1 id="landing-title">Write posts that update live, everywhere you are signed in.</h1>
        <p className="lede">
          Gatehouse is a realtime posting app: what you write appears on every open screen at once, in your
          own list and, when you make it public, in the public feed.
        </p>
        <div className="cta-row">
          <Link className="button cta-primary" to="/sign-up">
            Sign up free
          </Link>
          <Link className="button cta-secondary" to="/sign-in">
            Sign in
          </Link>
          <Link className="cta-link" to="/public">
            Read the public feed
          </Link>
        </div>
      </section>

      <section aria-labelledby="how-title" className="landing-section">
        <h2 id="how-title">How it keeps your posts yours</h2>
        <ul className="facts">
          <li>
            <h3>Realtime</h3>
            <p>
              Posts, edits and plan changes reach every open tab and device within moments, with no reload.
            </p>
          </li>
          <li>
            <h3>Authorized on the server</h3>
            <p>
              Clerk signs you in; Gatehouse checks who you are, what you own, your role and your plan in every
              server function, so a hidden button is never the only thing in the way.
            </p>
          </li>
          <li>
            <h3>Roles and plans with an audit trail</h3>
            <p>
              Administrators manage members&rsquo; roles and plans, and every change they make is recorded:
              who, whom, what and when.
            </p>
          </li>
        </ul>
      </section>

      <section aria-labelledby="plans-title" className="landing-section">
        <div className="section-head">
          <h2 id="plans-title">Plans</h2>
          <Link to="/pricing">Compare plans in detail</Link>
        </div>
        <PlanCards
          level={3}
          action={(plan) =>
            plan === "free_user" ? (
              <Link className="button" to="/sign-up">
                Start on Free
              </Link>
            ) : (
              <Link to="/pricing">How to get Pro</Link>
            )
          }
        />
      </section>

      {DevHints && (
        <Suspense fallback={null}>
          <DevHints />
        </Suspense>
      )}
    </div>
  );
}
