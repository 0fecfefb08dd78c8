import type { Accounts } from "./accounts.ts";
import { SEED_PASSWORD, SEEDED_ACCOUNTS } from "./config.ts";

/**
 * Creates the seeded accounts that are missing, through the same path as sign-up, so each
 * one produces a `user.created` webhook like any other new user. Existing accounts are left
 * as they are (a role changed during development survives a restart). Returns the emails created.
 */
export async function seedAccounts(accounts: Accounts): Promise<string[]> {
  const created: string[] = [];
  for (const { email, firstName, lastName, role, plan } of SEEDED_ACCOUNTS) {
    if (accounts.findByEmail(email)) continue;
    const user = await accounts.createUser(
      { email, firstName, lastName, publicMetadata: { role, plan } },
      SEED_PASSWORD,
    );
    if (user) created.push(email);
  }
  return created;
}
