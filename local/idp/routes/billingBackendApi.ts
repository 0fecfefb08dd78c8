import type { Accounts } from "../accounts.ts";
import type { Billing } from "../billing/billing.ts";
import { backendItemJson, backendSubscriptionJson } from "../billing/backendJson.ts";
import { HttpError, notFound, ok } from "../http.ts";
import type { Store } from "../store.ts";
import type { Route } from "./route.ts";

/**
 * The Backend API calls `@clerk/backend`'s `clerkClient.billing` makes for users
 * (`getUserBillingSubscription`, `cancelSubscriptionItem`), with the secret key. Its
 * `getPlanList` (`GET /v1/billing/plans`) is answered by the Frontend API's plan list, which has
 * the same shape (`fapi/billingRoutes.ts`). Organizations and free trials are not emulated.
 */
export function billingBackendApiRoutes(accounts: Accounts, billing: Billing, store: Store): Route[] {
  const instanceId = () => store.state.instanceId;
  return [
    {
      method: "GET",
      pattern: /^\/v1\/users\/([^/]+)\/billing\/subscription$/,
      access: "backend",
      handle: ({ params: [id = ""] }) => {
        if (!accounts.getUser(id)) throw notFound("user");
        return ok(backendSubscriptionJson(billing.requirePayer(id), instanceId()));
      },
    },
    {
      // `end_now=true` ends the item and starts Free now; otherwise it runs to its period's end.
      method: "DELETE",
      pattern: /^\/v1\/billing\/subscription_items\/([^/]+)$/,
      access: "backend",
      handle: ({ url, params: [id = ""] }) => {
        const endNow = url.searchParams.get("end_now") ?? "false";
        if (endNow !== "true" && endNow !== "false") {
          throw new HttpError(400, "form_param_invalid", "invalid request", "end_now must be true or false.");
        }
        const found = billing.findItem(id);
        if (!found) throw notFound("subscription item");
        const item = billing.cancelItem(found.payer, id, endNow === "true");
        return ok(backendItemJson(item, found.payer, instanceId()));
      },
    },
  ];
}
