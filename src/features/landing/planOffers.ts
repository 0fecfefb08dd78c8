import { FREE_POST_QUOTA, type Plan } from "../../../convex/lib/permissions";
import { PLAN_LABEL } from "../../lib/plans";

/** What each plan includes, from the same numbers the server enforces (convex/lib/permissions.ts). */
export const PLAN_OFFERS: { plan: Plan; name: string; summary: string; features: string[] }[] = [
  {
    plan: "free_user",
    name: PLAN_LABEL.free_user,
    summary: "Everything you need to start writing.",
    features: [
      `Up to ${FREE_POST_QUOTA} posts`,
      "Private and public posts",
      "Your public posts in the public feed",
      "Live updates on every device",
    ],
  },
  {
    plan: "pro",
    name: PLAN_LABEL.pro,
    summary: "For people who post a lot, and on a schedule.",
    features: [
      "Unlimited posts",
      "Insights: charts of your posts over time",
      "Scheduled publishing",
      `Everything in ${PLAN_LABEL.free_user}`,
    ],
  },
];
