import type { Accounts } from "./accounts.ts";
import type { Billing } from "./billing/billing.ts";
import { SEED_PASSWORD, SEEDED_ACCOUNTS } from "./config.ts";

/**
 * Creates the seeded accounts that are missing, through the same path as sign-up, so each
 * one produces a `user.created` webhook (and its billing events) like any other new user.
 * Existing accounts are left as they are (a role changed during development survives a restart).
 * A seeded subscription is bought, as a checkout with the default test card would, for an account
 * that never had one: a new account, or one from a data dir that predates billing; one that
 * canceled during development stays on Free. Returns the emails created.
 */
export async function seedAccounts(accounts: Accounts, billing: Billing): Promise<string[]> {
  const created: string[] = [];
  for (const { email, firstName, lastName, role, plan, planOverride, subscription } of SEEDED_ACCOUNTS) {
    let user = accounts.findByEmail(email);
    if (!user) {
      const publicMetadata = { role, plan, ...(planOverride && { planOverride }) };
      user = await accounts.createUser({ email, firstName, lastName, publicMetadata }, SEED_PASSWORD);
      if (user) created.push(email);
    }
    if (user && subscription && !billing.everPaid(user.id)) {
      billing.subscribe(user.id, subscription.plan, subscription.period);
    }
  }
  return created;
}
