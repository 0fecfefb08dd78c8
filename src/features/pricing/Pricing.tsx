import { PricingTable, useAuth } from "@clerk/clerk-react";
import { useQuery } from "convex/react";
import { Link } from "react-router-dom";
import { api } from "../../../convex/_generated/api";
import { isAdmin } from "../../../convex/lib/permissions";
import { useViewer } from "../../auth/useViewer";
import { DevNote } from "../../components/DevNote";
import { Skeleton } from "../../components/Skeleton";
import { usePageTitle } from "../../components/usePageTitle";
import { isLocalStack } from "../../lib/localStack";
import { PLAN_LABEL } from "../../lib/plans";
import "./pricing.css";

/**
 * The plans, for visitors and members alike: Clerk Billing's own `<PricingTable />` (the member's
 * plan marked, Subscribe / Switch / Resubscribe opening Clerk's checkout), and how plans work here.
 * After a checkout the plan changes through Clerk's verified webhook (ADR 009), live on every page.
 */
export function Pricing() {
  usePageTitle("Plans");
  const { isSignedIn } = useAuth();
  const viewer = useViewer();
  const subscription = useQuery(api.billing.mine, viewer ? {} : "skip");
  return (
    <div className="pricing-page">
      <header>
        <h1>Plans</h1>
        <p className="muted pricing-note">
          Start on {PLAN_LABEL.free_user}; move to {PLAN_LABEL.pro} when you need more. Every limit is checked
          on the server, whatever the app shows.
        </p>
      </header>
      <div className="pricing-table">
        <PricingTable
          newSubscriptionRedirectUrl="/"
          fallback={<Skeleton lines={6} label="Loading plans" />}
        />
      </div>
      {isSignedIn !== true && (
        <p className="pricing-signup">
          New here?{" "}
          <Link className="button" to="/sign-up">
            Sign up free
          </Link>
        </p>
      )}
      <section className="card" aria-labelledby="how-plans-work">
        <h2 id="how-plans-work">How plans work</h2>
        <ul>
          <li>{PLAN_LABEL.pro} starts as soon as the payment goes through, on every page you have open.</li>
          <li>
            Cancel any time: {PLAN_LABEL.pro} stays until the end of the period you paid for. Your posts stay
            when your plan changes; past the {PLAN_LABEL.free_user} limit you can read and edit them, not add
            more.
          </li>
          <li>Payments are handled by Clerk Billing; Gatehouse never sees your card.</li>
        </ul>
        {subscription?.source === "admin" && (
          <p>
            Your {PLAN_LABEL[subscription.plan]} plan was set by an administrator; it stays as it is whatever
            you subscribe to, until they lift it.
          </p>
        )}
        {viewer && isAdmin(viewer) && (
          <p>
            As an administrator, you can grant or lift plans on the <Link to="/admin">Admin</Link> page.
          </p>
        )}
      </section>
      {isLocalStack && (
        <DevNote id="billing-emulation" title="Billing is emulated">
          <p>
            No payment leaves this machine. Checkout offers two saved test cards: Visa ⋯ 4242 is charged, Visa
            ⋯ 0002 is declined.
          </p>
        </DevNote>
      )}
    </div>
  );
}

export default Pricing;
