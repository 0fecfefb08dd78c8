import { notFound } from "../http.ts";
import type { Route } from "../routes/route.ts";
import type { Fapi } from "./fapi.ts";
import { sessionWithActivities } from "./json.ts";
import { fapiPath } from "./paths.ts";
import { signedInForm } from "./request.ts";

/**
 * UserProfile's Security → "Active devices": the user's live sessions (a bare array, no tokens:
 * they are the user's other devices too, and a token is a credential) and "Sign out of device"
 * (`POST /v1/me/sessions/{id}/revoke`). A revoked session ends like a signed-out one: its
 * tokens and touches answer 401 `signed_out` and its browser's next `GET /v1/client` shows it gone.
 */
export function meSessionRoutes(fapi: Fapi): Route[] {
  return [
    {
      method: "GET",
      pattern: fapiPath("/me/sessions/active"),
      access: "fapi",
      handle: ({ req, url }) => {
        const { session: current, user } = fapi.signedIn(req, url);
        const now = fapi.now();
        const sessions = fapi.accounts.userSessions(user.id).map((session) =>
          sessionWithActivities(
            { session, user, status: "active", lastActiveAt: fapi.lastActiveAt(session), token: null, now },
            "127.0.0.1",
            fapi.device(session.id) ??
              // This browser is asking: its session was maybe not touched since the IdP restarted.
              (session.id === current.id ? fapi.deviceOf(req) : undefined),
          ),
        );
        return { status: 200, body: sessions };
      },
    },
    {
      method: "POST",
      pattern: fapiPath("/me/sessions/([^/]+)/revoke"),
      access: "fapi",
      handle: async ({ req, url, origin, params: [sessionId = ""] }) => {
        const { rc, user } = await signedInForm(fapi, req, url, []);
        // Another user's session is as unknown as a made-up id: no telling which exist.
        const target = fapi.accounts.liveSession(sessionId);
        if (!target || target.user.id !== user.id) throw notFound("session");
        const { session } = target;
        const revoked = sessionWithActivities(
          {
            session,
            user,
            status: "revoked",
            lastActiveAt: fapi.lastActiveAt(session),
            token: null,
            now: fapi.now(),
          },
          "127.0.0.1",
          fapi.device(session.id),
        );
        // Revoking this client's own session signs it out here too.
        fapi.removeSession(rc, session.id);
        return fapi.respond(revoked, rc, origin);
      },
    },
  ];
}
