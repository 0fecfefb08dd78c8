import type { Route } from "../routes/route.ts";
import { signedOut, type Fapi } from "./fapi.ts";
import { sessionWithActivities, userWire } from "./json.ts";
import { fapiPath } from "./paths.ts";
import { HttpError } from "../http.ts";
import { clientKey, refusalResult } from "../throttle.ts";
import { field, readForm, rejectUnknown } from "./request.ts";
import { checkPasswordLength } from "./signUpRoutes.ts";

const MAX_PASSWORD = 1_000;

const MAX_NAME = 100;

/**
 * The signed-in user (`_clerk_session_id`, else the client's active session): read it, rename it
 * (`PATCH /v1/me`, the same `user.updated` webhook as the Backend API's profile update) and list
 * its active sessions (a bare array; other sessions' tokens are never included).
 */
export function meRoutes(fapi: Fapi): Route[] {
  return [
    {
      method: "GET",
      pattern: fapiPath("/me"),
      access: "fapi",
      handle: ({ req, url, origin }) => {
        const rc = fapi.requireClient(req);
        const { user } = fapi.currentSession(rc.client, url);
        return fapi.respond(userWire(user), rc, origin);
      },
    },
    {
      method: "PATCH",
      pattern: fapiPath("/me"),
      access: "fapi",
      handle: async ({ req, url, origin }) => {
        const form = await readForm(req);
        rejectUnknown(form, ["first_name", "last_name"]);
        // Present and empty clears a name (null), absent leaves it.
        const name = (key: string) => {
          const value = field(form, key, { max: MAX_NAME, trim: true });
          return value === undefined ? undefined : value || null;
        };
        const change = { first_name: name("first_name"), last_name: name("last_name") };
        const rc = fapi.requireClient(req);
        const { user } = fapi.currentSession(rc.client, url);
        const updated = fapi.accounts.updateProfile(user.id, change) ?? user;
        return fapi.respond(userWire(updated), rc, origin);
      },
    },
    {
      // UserProfile's Security → "Update password": `new_password`, `current_password`,
      // `sign_out_of_other_sessions` → `{response: user, client}`.
      method: "POST",
      pattern: fapiPath("/me/change_password"),
      access: "fapi",
      handle: async ({ req, url, origin }) => {
        const form = await readForm(req);
        rejectUnknown(form, ["new_password", "current_password", "sign_out_of_other_sessions"]);
        const newPassword = field(form, "new_password", { required: true, max: MAX_PASSWORD });
        checkPasswordLength(newPassword, "new_password");
        const current = field(form, "current_password", { required: true, max: MAX_PASSWORD });
        const signOut = field(form, "sign_out_of_other_sessions", { max: 5 });
        if (signOut !== undefined && signOut !== "true" && signOut !== "false") {
          throw new HttpError(422, "form_param_format_invalid", "is invalid", "Must be true or false.", {
            param_name: "sign_out_of_other_sessions",
          });
        }
        const rc = fapi.requireClient(req);
        const { session, user } = fapi.currentSession(rc.client, url);
        const check = await fapi.accounts.checkPassword(
          user.id,
          current,
          clientKey(req.socket.remoteAddress),
        );
        if (check.outcome === "throttled") {
          return refusalResult(check.refusal, { backoffAsTooManyRequests: true });
        }
        if (check.outcome === "bad_credentials") {
          throw new HttpError(
            422,
            "form_password_incorrect",
            "Password is incorrect.",
            "Your current password is incorrect.",
            { param_name: "current_password" },
          );
        }
        const updated = await fapi.accounts.setPassword(user.id, newPassword, signOut === "true", session.id);
        if (!updated) throw signedOut(); // the user was deleted meanwhile
        return fapi.respond(userWire(updated), rc, origin);
      },
    },
    {
      method: "GET",
      pattern: fapiPath("/me/sessions/active"),
      access: "fapi",
      handle: ({ req, url }) => {
        const rc = fapi.requireClient(req);
        const { user } = fapi.currentSession(rc.client, url);
        const now = fapi.now();
        const sessions = fapi.accounts.userSessions(user.id).map((session) =>
          // No token: these are the user's other devices too, and a token is a credential.
          sessionWithActivities(
            { session, user, status: "active", lastActiveAt: session.createdAt, token: null, now },
            "127.0.0.1",
          ),
        );
        return { status: 200, body: sessions };
      },
    },
  ];
}
