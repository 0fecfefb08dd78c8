import { useAuth } from "@clerk/clerk-react";
import { Link } from "react-router-dom";
import { isAdmin, type Plan } from "../../../convex/lib/permissions";
import { useViewer } from "../../auth/useViewer";
import { usePageTitle } from "../../components/usePageTitle";
import { PLAN_LABEL } from "../../lib/plans";
import { PlanCards } from "./PlanCards";

/** The plans, for visitors and members alike; signed in, it marks the member's plan. */
export function Pricing() {
  usePageTitle("Plans");
  const { isSignedIn } = useAuth();
  const viewer = useViewer();
  const current = viewer?.plan;
  return (
    <div className="pricing-page">
      <header>
        <h1>Plans</h1>
        <p className="muted pricing-note">
          Start on {PLAN_LABEL.free_user}; move to {PLAN_LABEL.pro} when you need more. Every limit is checked
          on the server, whatever the app shows.
        </p>
      </header>
      <PlanCards current={current} action={(plan) => action(plan, isSignedIn === true, current)} />
      {viewer && (
        <section className="card" aria-labelledby="get-pro">
          <h2 id="get-pro">
            {current === "pro" ? `You are on ${PLAN_LABEL.pro}` : `Getting ${PLAN_LABEL.pro}`}
          </h2>
          {current === "pro" ? (
            <p>Everything on this page is yours: unlimited posts, insights and scheduled publishing.</p>
          ) : (
            <p>
              Self-serve billing is not available yet: an administrator can move your account to{" "}
              {PLAN_LABEL.pro}. Your posts stay as they are when your plan changes.
            </p>
          )}
          {isAdmin(viewer) && (
            <p>
              As an administrator, you change plans on the <Link to="/admin">Admin</Link> page.
            </p>
          )}
        </section>
      )}
    </div>
  );
}

function action(plan: Plan, signedIn: boolean, current: Plan | undefined) {
  if (!signedIn) {
    return plan === "free_user" ? (
      <Link className="button" to="/sign-up">
        Sign up free
      </Link>
    ) : (
      <p className="muted small">Sign up, then an administrator can move your account to Pro.</p>
    );
  }
  if (plan === current) return <p className="muted small">This is your current plan.</p>;
  return null;
}

export default Pricing;
