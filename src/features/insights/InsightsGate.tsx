import { Protect } from "@clerk/clerk-react";
import type { ReactNode } from "react";
import { RequirePlan } from "../../app/guards";
import { UpgradePrompt } from "../../components/UpgradePrompt";
import { usePageTitle } from "../../components/usePageTitle";
import { PostsChart } from "./PostsChart";
import { fillDays } from "./chart";
import "./insights.css";

/**
 * Insights are Pro. The seed's `<Protect condition={(has) => !has({ plan: "free_user" })}>` reads
 * the session token's plan claim (Clerk Billing's `pla`); the synced users row, which a webhook
 * updates the moment a plan changes, has the last word either way: a Clerk instance without
 * Billing issues no `pla` (so `has()` says "not free" for everyone), and a token minted before a
 * change is stale. The server checks the plan again on every query.
 */
export function InsightsGate({ children }: { children: ReactNode }) {
  const byRow = (
    <RequirePlan plan="pro" fallback={<InsightsPreview />}>
      {children}
    </RequirePlan>
  );
  return (
    <Protect condition={(has) => !has({ plan: "free_user" })} fallback={byRow}>
      {byRow}
    </Protect>
  );
}

/** Sample numbers (not the viewer's): what the chart looks like, blurred behind the offer. */
const SAMPLE = [1, 0, 2, 3, 1, 4, 2, 0, 3, 5, 2, 1, 4, 3].map((count, i) => ({
  day: `2026-01-${String(i + 1).padStart(2, "0")}`,
  count,
}));

/** What a free user sees at /insights: a preview of the page and the way to Pro, not a dead end. */
export function InsightsPreview() {
  usePageTitle("Insights");
  return (
    <div className="stack insights-page">
      <h1>Insights</h1>
      <div className="insights-preview">
        <div className="preview-sample" aria-hidden="true">
          <div className="stats">
            {["Posts", "Public", "Private", "Words"].map((label, i) => (
              <div key={label} className="card stat">
                <div className="stat-value">{[42, 18, 24, 3120][i]}</div>
                <div className="muted">{label}</div>
              </div>
            ))}
          </div>
          <div className="card">
            <PostsChart days={fillDays(SAMPLE, "2026-01-01", "2026-01-14")} decorative />
          </div>
        </div>
        <div className="preview-offer">
          <UpgradePrompt
            feature="Insights"
            description="See your posts over time — 7, 30 or 90 days — how many are public or private, and when you last posted. Live, as you write."
          />
        </div>
      </div>
    </div>
  );
}
