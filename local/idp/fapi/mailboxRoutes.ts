import type { Route } from "../routes/route.ts";
import type { Fapi } from "./fapi.ts";
import { field } from "./request.ts";

/**
 * `GET /v1/dev/mailbox[?email=…]`: the codes the IdP "sent", newest first, for tests and for
 * whoever runs the stack. It takes the Backend API key (`Authorization: Bearer <secret key>`):
 * loopback is not enough, since any other user of the machine could start a password reset for
 * any account and read its code here (account takeover). The key is in the owner's 0700 data dir,
 * and the owner also sees every code in the IdP's log. No CORS (a page cannot read it) and only at
 * `/v1/…`: the `/__clerk` prefix that pages use to reach the FAPI does not lead here.
 */
export function mailboxRoutes(fapi: Fapi): Route[] {
  return [
    {
      method: "GET",
      pattern: /^\/v1\/dev\/mailbox$/,
      access: "backend",
      handle: ({ url }) => {
        const email = field(url.searchParams, "email", { max: 254, trim: true });
        const messages = fapi.mailbox.list(email).map((m) => ({
          object: "email",
          id: m.id,
          email_address: m.to,
          purpose: m.purpose,
          code: m.code,
          created_at: m.createdAt,
          expire_at: m.expireAt,
        }));
        return { status: 200, body: { data: messages, total_count: messages.length } };
      },
    },
  ];
}
