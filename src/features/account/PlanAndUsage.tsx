import { useQuery } from "convex/react";
import { Link } from "react-router-dom";
import { api } from "../../../convex/_generated/api";
import { Skeleton } from "../../components/Skeleton";
import { useViewer } from "../../auth/useViewer";
import { PLAN_LABEL } from "../../lib/plans";
import { SubscriptionStatus } from "./SubscriptionStatus";
import "./account.css";

/** The account's plan as the server enforces it, where it comes from, and how much of it is used. */
export function PlanAndUsage() {
  const viewer = useViewer();
  const quota = useQuery(api.posts.quota, viewer ? {} : "skip");
  const subscription = useQuery(api.billing.mine, viewer ? {} : "skip");
  if (!viewer || !quota || !subscription) return <Skeleton label="Loading your plan" />;
  return (
    <section className="account-section" aria-labelledby="plan-title">
      <h2 id="plan-title">Plan and usage</h2>
      <p>
        You are on the <strong>{PLAN_LABEL[viewer.plan]}</strong> plan
        {subscription.source === "admin" ? ", granted by an administrator." : "."}
      </p>
      <SubscriptionStatus subscription={subscription} />
      {quota.limit === null ? (
        <p>{quota.used.toLocaleString()} posts, with no limit.</p>
      ) : (
        <>
          <p>
            {quota.used <= quota.limit ? (
              <>
                {quota.used} of {quota.limit} posts used.
              </>
            ) : (
              // After Pro ends every post stays (ADR 009): say so, not "11 of 10".
              <>
                {quota.used} posts, more than the {quota.limit} of the {PLAN_LABEL.free_user} plan: they all
                stay, to read and edit; to add more, upgrade to {PLAN_LABEL.pro} or keep fewer than{" "}
                {quota.limit}.
              </>
            )}
          </p>
          <progress max={quota.limit} value={Math.min(quota.used, quota.limit)} aria-label="Posts used" />
        </>
      )}
      <p className="account-links">
        {viewer.plan === "pro" ? (
          <Link to="/pricing">Compare plans</Link>
        ) : (
          <Link className="button" to="/pricing">
            Upgrade to {PLAN_LABEL.pro}
          </Link>
        )}
        {subscription.paid !== null && <Link to="/account/billing">Manage your subscription</Link>}
      </p>
    </section>
  );
}
