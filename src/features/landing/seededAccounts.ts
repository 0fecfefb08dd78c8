/** The local stack's seeded accounts (local/idp's seed), shown only in local mode. */
export const SEEDED_PASSWORD = "gatehouse-dev";
export const SEEDED_ACCOUNTS = [
  { email: "admin@gatehouse.test", what: "administrator, Pro" },
  { email: "pro@gatehouse.test", what: "member, Pro" },
  { email: "free@gatehouse.test", what: "member, Free" },
];
