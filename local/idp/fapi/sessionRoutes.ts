import { notFound, ok } from "../http.ts";
import type { Route } from "../routes/route.ts";
import type { Fapi } from "./fapi.ts";
import { tokenWire } from "./json.ts";
import { fapiPath } from "./paths.ts";
import { field, readForm, rejectUnknown } from "./request.ts";

/**
 * A client's sessions: touch (`select_session` after sign-in, `focus`), session tokens (bare
 * `{object: "token", jwt}`, default or a named template), sign-out of every session of the client
 * (`DELETE /v1/client/sessions`) and of one (`…/{id}/remove`). Only the sessions of the cookie's
 * client are reachable here, unlike the dev API's bearer session ids.
 */
export function sessionRoutes(fapi: Fapi): Route[] {
  const tokenRoute = (pattern: RegExp): Route => ({
    method: "POST",
    pattern,
    access: "fapi",
    handle: async ({ req, origin, params: [sessionId = "", template] }) => {
      const form = await readForm(req);
      rejectUnknown(form, ["organization_id"]);
      const { client } = fapi.requireClient(req);
      const { session, user } = fapi.clientSession(client, sessionId);
      const jwt =
        template === undefined
          ? await fapi.defaultToken(session, user, origin)
          : await fapi.templateToken(template, session, user, origin);
      return ok(tokenWire(jwt)); // bare: clerk-js reads `jwt` at the top level
    },
  });

  return [
    {
      method: "POST",
      pattern: fapiPath("/client/sessions/([^/]+)/touch"),
      access: "fapi",
      handle: async ({ req, origin, params: [sessionId = ""] }) => {
        const form = await readForm(req);
        rejectUnknown(form, ["active_organization_id", "intent"]);
        field(form, "intent", { max: 64 });
        const rc = fapi.requireClient(req);
        const { session, user } = fapi.clientSession(rc.client, sessionId);
        fapi.touch(session.id, req.headers["user-agent"] ?? "");
        fapi.save(rc, (client) => {
          client.lastActiveSessionId = session.id;
        });
        return fapi.respond(await fapi.sessionJson(session, user, origin), rc, origin);
      },
    },
    tokenRoute(fapiPath("/client/sessions/([^/]+)/tokens")),
    tokenRoute(fapiPath("/client/sessions/([^/]+)/tokens/([^/]+)")),
    {
      // Sign-out: every session of this client ends; the client (and its cookie) stays.
      method: "DELETE",
      pattern: fapiPath("/client/sessions"),
      access: "fapi",
      handle: async ({ req, origin }) => {
        await readForm(req);
        const rc = fapi.existingClient(req);
        if (!rc) return fapi.noClient(null, false);
        fapi.signOutClient(rc);
        return fapi.respond(await fapi.clientJson(rc.client, origin), rc, origin);
      },
    },
    {
      method: "POST",
      pattern: fapiPath("/client/sessions/([^/]+)/remove"),
      access: "fapi",
      handle: async ({ req, origin, params: [sessionId = ""] }) => {
        await readForm(req);
        const rc = fapi.existingClient(req);
        const live = rc && fapi.liveSessions(rc.client).find((l) => l.session.id === sessionId);
        if (!rc || !live) throw notFound("session");
        const removed = await fapi.sessionJson(live.session, live.user, origin, "removed");
        fapi.removeSession(rc, sessionId);
        return fapi.respond(removed, rc, origin);
      },
    },
  ];
}
