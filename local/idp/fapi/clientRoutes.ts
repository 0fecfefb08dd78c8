import type { Route } from "../routes/route.ts";
import { CLIENT_COOKIE, readCookie } from "./cookies.ts";
import type { Fapi } from "./fapi.ts";
import { clientWire } from "./json.ts";
import { fapiPath } from "./paths.ts";
import { callerOrigin } from "./request.ts";

/** `GET /v1/client` (every page load) and `DELETE /v1/client` (forget this browser). */
export function clientRoutes(fapi: Fapi): Route[] {
  return [
    {
      method: "GET",
      pattern: fapiPath("/client"),
      access: "fapi",
      handle: async ({ req, origin }) => {
        const client = fapi.findClient(req);
        // No cookie is a signed-out browser (`response: null`); a cookie naming nothing is dropped.
        if (!client) return fapi.noClient(null, readCookie(req, CLIENT_COOKIE) !== undefined);
        const response = await fapi.clientJson(client, callerOrigin(req, origin));
        return { status: 200, body: { response, client: null } };
      },
    },
    {
      method: "DELETE",
      pattern: fapiPath("/client"),
      access: "fapi",
      handle: ({ req }) => {
        const client = fapi.findClient(req);
        if (!client) return fapi.noClient(null, readCookie(req, CLIENT_COOKIE) !== undefined);
        for (const id of client.sessionIds) fapi.endSession(id);
        fapi.clients.remove(client);
        const ended = { ...client, sessionIds: [], lastActiveSessionId: null, signIn: null, signUp: null };
        return fapi.noClient(clientWire(ended, [], null, fapi.now()), true);
      },
    },
  ];
}
