import { Link } from "react-router-dom";

/**
 * Where a free user meets a Pro feature: what it is and the way to get it (the pricing page),
 * instead of a dead end. `compact` fits inside a form or a card.
 */
export function UpgradePrompt({
  feature,
  description,
  compact = false,
}: {
  feature: string;
  description?: string;
  compact?: boolean;
}) {
  if (compact) {
    return (
      <p className="upgrade-inline" role="note">
        {feature} {feature.endsWith("s") ? "are" : "is"} part of Pro. <Link to="/pricing">See plans</Link>
      </p>
    );
  }
  return (
    <section className="card upgrade" aria-label="Upgrade to Pro">
      <h2>{feature} with Pro</h2>
      {description && <p>{description}</p>}
      <Link className="button" to="/pricing">
        See plans
      </Link>
    </section>
  );
}
