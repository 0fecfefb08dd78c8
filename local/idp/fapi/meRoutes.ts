import type { Route } from "../routes/route.ts";
import { signedOut, type Fapi } from "./fapi.ts";
import { userWire, type DeletedObjectWire } from "./json.ts";
import { fapiPath } from "./paths.ts";
import { HttpError } from "../http.ts";
import { clientKey, refusalResult } from "../throttle.ts";
import { field, signedInForm } from "./request.ts";
import { checkPasswordLength } from "./signUpRoutes.ts";
import { emailAddressOf, type UserJson } from "../users.ts";

const MAX_PASSWORD = 1_000;

const MAX_NAME = 100;

/** Only a verified address of the user's own can become primary (the one they sign in and are mailed at). */
function checkPrimary(user: UserJson, emailId: string): void {
  const email = emailAddressOf(user, emailId);
  if (!email || email.verification.status !== "verified") {
    throw new HttpError(
      422,
      "form_param_value_invalid",
      "is invalid",
      // No param_name: "Set as primary" is a menu item, and clerk-js shows a field-less error only.
      "Only a verified email address of yours can be made primary.",
    );
  }
}

const PROFILE_FIELDS = ["first_name", "last_name", "primary_email_address_id"];

/** `PATCH /v1/me`'s fields: a name present and empty clears it (null), absent leaves it. */
function profileChange(form: URLSearchParams) {
  const name = (key: string) => {
    const value = field(form, key, { max: MAX_NAME, trim: true });
    return value === undefined ? undefined : value || null;
  };
  return {
    first_name: name("first_name"),
    last_name: name("last_name"),
    primary_email_address_id: field(form, "primary_email_address_id", { max: 64 }),
  };
}

const PASSWORD_FIELDS = ["new_password", "current_password", "sign_out_of_other_sessions"];

/** `POST /v1/me/change_password`'s fields, checked before the current password is. */
function passwordChange(form: URLSearchParams) {
  const newPassword = field(form, "new_password", { required: true, max: MAX_PASSWORD });
  checkPasswordLength(newPassword, "new_password");
  const current = field(form, "current_password", { required: true, max: MAX_PASSWORD });
  const signOut = field(form, "sign_out_of_other_sessions", { max: 5 });
  if (signOut !== undefined && signOut !== "true" && signOut !== "false") {
    throw new HttpError(422, "form_param_format_invalid", "is invalid", "Must be true or false.", {
      param_name: "sign_out_of_other_sessions",
    });
  }
  return { newPassword, current, signOut };
}

/**
 * The signed-in user (`_clerk_session_id`, else the client's active session): read it, rename it
 * or change its primary email (`PATCH /v1/me`, the same `user.updated` webhook as the Backend
 * API's profile update), change its password, delete it (`DELETE /v1/me`). Its email addresses,
 * image and sessions have their own files (`emailAddressRoutes.ts`, `profileImageRoutes.ts`,
 * `meSessionRoutes.ts`).
 */
export function meRoutes(fapi: Fapi): Route[] {
  return [
    {
      method: "GET",
      pattern: fapiPath("/me"),
      access: "fapi",
      handle: ({ req, url, origin }) => {
        const { rc, user } = fapi.signedIn(req, url);
        return fapi.respond(userWire(user), rc, origin);
      },
    },
    {
      // "Update profile" (names) and an email's "Set as primary" (`primary_email_address_id`).
      method: "PATCH",
      pattern: fapiPath("/me"),
      access: "fapi",
      handle: async ({ req, url, origin }) => {
        const { form: change, rc, user } = await signedInForm(fapi, req, url, PROFILE_FIELDS, profileChange);
        if (change.primary_email_address_id !== undefined) {
          checkPrimary(user, change.primary_email_address_id);
        }
        const given = Object.fromEntries(Object.entries(change).filter(([, v]) => v !== undefined));
        const updated = fapi.accounts.changeUser(user.id, () => given) ?? user;
        return fapi.respond(userWire(updated), rc, origin);
      },
    },
    {
      // UserProfile's "Delete account": the Backend API's delete (sessions end, `user.deleted`),
      // then this client is signed out, which the piggybacked client tells clerk-js.
      method: "DELETE",
      pattern: fapiPath("/me"),
      access: "fapi",
      handle: async ({ req, url, origin }) => {
        const { rc, user } = await signedInForm(fapi, req, url, []);
        const deleted = fapi.accounts.deleteUser(user.id);
        if (!deleted) throw signedOut();
        fapi.signOutClient(rc);
        const response: DeletedObjectWire = { object: "user", id: user.id, deleted: true };
        return fapi.respond(response, rc, origin);
      },
    },
    {
      // UserProfile's Security → "Update password": `new_password`, `current_password`,
      // `sign_out_of_other_sessions` → `{response: user, client}`.
      method: "POST",
      pattern: fapiPath("/me/change_password"),
      access: "fapi",
      handle: async ({ req, url, origin }) => {
        const { form, rc, session, user } = await signedInForm(
          fapi,
          req,
          url,
          PASSWORD_FIELDS,
          passwordChange,
        );
        const { newPassword, current, signOut } = form;
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
  ];
}
