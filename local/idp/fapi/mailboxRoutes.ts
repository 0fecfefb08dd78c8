import type { Route } from "../routes/route.ts";
import type { Fapi } from "./fapi.ts";
import { field } from "./request.ts";

/**
 * `GET /v1/dev/mailbox[?email=…]`: the codes the IdP "sent", newest first, for tests and for
 * whoever runs the stack. Loopback like every IdP route, without CORS (a page cannot read it) and
 * only at `/v1/…`: the `/__clerk` prefix that pages use to reach the FAPI does not lead here.
 */
export function mailboxRoutes(fapi: Fapi): Route[] {
  return [
    {
      method: "GET",
      pattern: /^\/v1\/dev\/mailbox$/,
      access: "local",
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
