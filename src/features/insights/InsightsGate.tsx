import { Protect } from "@clerk/clerk-react";
import type { ReactNode } from "react";
import { Link } from "react-router-dom";
import { RequirePlan } from "../../app/guards";

/**
 * Insights are Pro. The session token's plan claim decides first, as the seed's `<Protect>` does;
 * when it says free, the synced users row (updated by webhook the moment a plan changes, before the
 * next token) gets the last word, so a user upgraded a second ago is not shown a stale refusal.
 * The server checks the plan again on every query either way.
 */
export function InsightsGate({ children }: { children: ReactNode }) {
  return (
    <Protect
      condition={(has) => !has({ plan: "free_user" })}
      fallback={
        <RequirePlan plan="pro" fallback={<UpgradePrompt />}>
          {children}
        </RequirePlan>
      }
    >
      {children}
    </Protect>
  );
}

function UpgradePrompt() {
  return (
    <section className="card" role="status" aria-label="Upgrade">
      <h2>Insights are part of Pro</h2>
      <p>
        Pro shows statistics over your posts, live, and lets you schedule posts. An administrator can move
        your account to Pro.
      </p>
      <Link to="/">Back to my posts</Link>
    </section>
  );
}
