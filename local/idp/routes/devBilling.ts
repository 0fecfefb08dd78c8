import type { Billing } from "../billing/billing.ts";
import { backendSubscriptionJson } from "../billing/backendJson.ts";
import { ok } from "../http.ts";
import type { Store } from "../store.ts";
import type { Route } from "./route.ts";

/**
 * Billing's clock, for tests and demos: nothing in the emulation ends a period by itself, so these
 * do it now. Behind the Backend API key like the rest of the dev API (`devApi.ts`). Each answers
 * the user's subscription as the Backend API shows it; 404 for an unknown user, 422 when the
 * subscription has nothing to end or make past due.
 *
 * - `POST /v1/dev/billing/users/{id}/end_period`: a canceled or past-due Pro ends and Free
 *   becomes active; an active Pro renews (a charge of the default card, a new period from now),
 *   or becomes past due if that card declines.
 * - `POST /v1/dev/billing/users/{id}/past_due`: the active Pro's renewal is declined: past due.
 */
export function devBillingRoutes(billing: Billing, store: Store): Route[] {
  const answer = (userId: string) =>
    ok(backendSubscriptionJson(billing.requirePayer(userId), store.state.instanceId));
  return [
    {
      method: "POST",
      pattern: /^\/v1\/dev\/billing\/users\/([^/]+)\/end_period$/,
      access: "backend",
      handle: ({ params: [userId = ""] }) => {
        billing.endPeriod(userId);
        return answer(userId);
      },
    },
    {
      method: "POST",
      pattern: /^\/v1\/dev\/billing\/users\/([^/]+)\/past_due$/,
      access: "backend",
      handle: ({ params: [userId = ""] }) => {
        billing.makePastDue(userId);
        return answer(userId);
      },
    },
  ];
}
