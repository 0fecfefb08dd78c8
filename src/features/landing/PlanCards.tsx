import type { ReactNode } from "react";
import type { Plan } from "../../../convex/lib/permissions";
import { PLAN_OFFERS } from "./planOffers";
import "./planCards.css";

/**
 * The plans side by side. `current` marks the viewer's plan; `action` adds a call to action
 * under a plan (sign up, how to get Pro). Headings start at `level` so the page keeps one h1.
 */
export function PlanCards({
  current,
  action,
  level = 2,
}: {
  current?: Plan;
  action?: (plan: Plan) => ReactNode;
  level?: 2 | 3;
}) {
  const Heading = level === 2 ? "h2" : "h3";
  return (
    <ul className="plans" aria-label="Plans">
      {PLAN_OFFERS.map((offer) => {
        const isCurrent = offer.plan === current;
        const cta = action?.(offer.plan);
        return (
          <li
            key={offer.plan}
            className={`plan plan-card-${offer.plan}${isCurrent ? " plan-current" : ""}`}
            aria-label={`${offer.name} plan${isCurrent ? " (your plan)" : ""}`}
          >
            <div className="plan-head">
              <Heading>{offer.name}</Heading>
              {isCurrent && <span className="plan-current-badge">Your plan</span>}
            </div>
            <p className="muted">{offer.summary}</p>
            <ul className="plan-features">
              {offer.features.map((feature) => (
                <li key={feature}>{feature}</li>
              ))}
            </ul>
            {cta && <div className="plan-action">{cta}</div>}
          </li>
        );
      })}
    </ul>
  );
}
