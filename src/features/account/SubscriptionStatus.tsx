import type { FunctionReturnType } from "convex/server";
import type { api } from "../../../convex/_generated/api";
import { PLAN_LABEL } from "../../lib/plans";

type Subscription = FunctionReturnType<typeof api.billing.mine>;

const dateOf = (ms: number) =>
  new Date(ms).toLocaleDateString(undefined, { year: "numeric", month: "long", day: "numeric" });

/**
 * What the paid subscription behind the plan is doing: renewing, ending on a date (canceled), or
 * past due. Cancel and resume are Clerk's own, on the account's Billing page.
 */
export function SubscriptionStatus({ subscription }: { subscription: Subscription }) {
  const { paid, source } = subscription;
  if (paid === null) return null;
  const end = paid.periodEnd === null ? null : dateOf(paid.periodEnd);
  if (paid.status === "past_due") {
    return (
      <p className="status-note status-warning" role="status">
        Your last payment for {PLAN_LABEL.pro} did not go through. {PLAN_LABEL.pro} stays on while it is
        retried; check your payment method on the Billing page.
      </p>
    );
  }
  if (paid.status === "canceled") {
    return (
      <p className="status-note" role="status">
        Your {PLAN_LABEL.pro} subscription is canceled
        {end ? (
          <>
            {" "}
            and ends on <strong>{end}</strong>
          </>
        ) : null}
        . Until then everything stays as it is; resubscribe on the Billing page to keep it.
      </p>
    );
  }
  return (
    <p>
      {source === "admin" ? "Your own subscription to " : "Your subscription to "}
      {PLAN_LABEL.pro} is active{end ? <>; it renews on {end}</> : null}.
    </p>
  );
}
