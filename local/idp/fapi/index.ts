import type { Route } from "../routes/route.ts";
import { billingRoutes } from "./billingRoutes.ts";
import { clientRoutes } from "./clientRoutes.ts";
import { emailAddressRoutes } from "./emailAddressRoutes.ts";
import { environmentRoutes } from "./environmentRoutes.ts";
import { Fapi, type FapiOptions } from "./fapi.ts";
import { mailboxRoutes } from "./mailboxRoutes.ts";
import { meRoutes } from "./meRoutes.ts";
import { meSessionRoutes } from "./meSessionRoutes.ts";
import { profileImageRoutes } from "./profileImageRoutes.ts";
import { sessionRoutes } from "./sessionRoutes.ts";
import { signInRoutes } from "./signInRoutes.ts";
import { signUpRoutes } from "./signUpRoutes.ts";

export { Fapi, type FapiOptions };

/** Every Frontend API route, at `/v1/…` and `/__clerk/v1/…`, and the dev mailbox (at `/v1/dev/mailbox` only). */
export function fapiRoutes(fapi: Fapi): Route[] {
  return [
    ...environmentRoutes(fapi),
    ...clientRoutes(fapi),
    ...signInRoutes(fapi),
    ...signUpRoutes(fapi),
    ...sessionRoutes(fapi),
    ...meRoutes(fapi),
    ...meSessionRoutes(fapi),
    ...emailAddressRoutes(fapi),
    ...profileImageRoutes(fapi),
    ...billingRoutes(fapi),
    ...mailboxRoutes(fapi),
  ];
}
