import { useQuery } from "convex/react";
import { Link } from "react-router-dom";
import { api } from "../../../convex/_generated/api";
import { Skeleton } from "../../components/Skeleton";
import { useViewer } from "../../auth/useViewer";
import { PLAN_LABEL } from "../../lib/plans";

/** The account's plan as the server enforces it, and how much of it is used. */
export function PlanAndUsage() {
  const viewer = useViewer();
  const quota = useQuery(api.posts.quota, viewer ? {} : "skip");
  if (!viewer || !quota) return <Skeleton label="Loading your plan" />;
  return (
    <section className="account-section" aria-labelledby="plan-title">
      <h2 id="plan-title">Plan and usage</h2>
      <p>
        You are on the <strong>{PLAN_LABEL[viewer.plan]}</strong> plan.
      </p>
      {quota.limit === null ? (
        <p>{quota.used.toLocaleString()} posts, with no limit.</p>
      ) : (
        <>
          <p>
            {quota.used} of {quota.limit} posts used.
          </p>
          <progress max={quota.limit} value={Math.min(quota.used, quota.limit)} aria-label="Posts used" />
        </>
      )}
      <p>
        <Link to="/pricing">{viewer.plan === "pro" ? "Compare plans" : "See what Pro adds"}</Link>
      </p>
    </section>
  );
}
