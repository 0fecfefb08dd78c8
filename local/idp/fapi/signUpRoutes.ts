import { z } from "zod";
import { HttpError } from "../http.ts";
import { newId } from "../ids.ts";
import type { Route } from "../routes/route.ts";
import type { SignUpRecord } from "./clientRecord.ts";
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from "./environment.ts";
import type { Fapi } from "./fapi.ts";
import { signUpWire } from "./json.ts";
import { fapiPath, LOCALE } from "./paths.ts";
import { field, formInvalid, readForm, rejectUnknown } from "./request.ts";

const MAX_NAME = 100;
const email = z.email().max(254);

export const identifierExists = () =>
  new HttpError(
    422,
    "form_identifier_exists",
    "That email address is taken. Please try another.",
    "That email address is taken. Please try another.",
    { param_name: "email_address" },
  );

/**
 * `POST /v1/client/sign_ups` with everything at once (`email_address`, `password`, optional
 * `first_name`, `last_name`): the user is created (the same `user.created` webhook as the dev
 * API's sign-up) and signed in, and the sign-up is `complete`. Email verification at sign-up is
 * off in the environment for now; continuing a sign-up (`PATCH …/sign_ups/{id}`, codes) is a later slice.
 */
export function signUpRoutes(fapi: Fapi): Route[] {
  return [
    {
      method: "POST",
      pattern: fapiPath("/client/sign_ups"),
      access: "fapi",
      handle: async ({ req, origin }) => {
        const form = await readForm(req);
        rejectUnknown(form, ["email_address", "password", "first_name", "last_name", LOCALE]);
        const address = field(form, "email_address", { required: true, max: 254, trim: true }).toLowerCase();
        if (!email.safeParse(address).success) {
          throw formInvalid("Email address must be a valid email address.", "email_address");
        }
        const password = field(form, "password", { required: true, max: 1024 });
        if (password.length < PASSWORD_MIN_LENGTH) {
          throw new HttpError(
            422,
            "form_password_length_too_short",
            "Passwords must be 8 characters or more.",
            `Passwords must be ${PASSWORD_MIN_LENGTH} characters or more.`,
            { param_name: "password" },
          );
        }
        if (password.length > PASSWORD_MAX_LENGTH) {
          throw new HttpError(
            422,
            "form_password_length_too_long",
            "Password is too long.",
            `Passwords must be ${PASSWORD_MAX_LENGTH} characters or less.`,
            { param_name: "password" },
          );
        }
        const firstName = field(form, "first_name", { max: MAX_NAME, trim: true }) || undefined;
        const lastName = field(form, "last_name", { max: MAX_NAME, trim: true }) || undefined;
        if (fapi.accounts.findByEmail(address)) throw identifierExists();
        const signedIn = await fapi.accounts.signUp(
          { email: address, firstName, lastName },
          password,
          origin,
        );
        if (!signedIn) throw identifierExists();
        const rc = fapi.clientOrNew(req);
        const signUp: SignUpRecord = {
          id: newId("sua"),
          status: "complete",
          emailAddress: address,
          firstName: firstName ?? null,
          lastName: lastName ?? null,
          createdUserId: signedIn.userId,
          createdSessionId: signedIn.sessionId,
          createdAt: fapi.now(),
        };
        fapi.save(rc, (client) => {
          client.signUp = signUp;
          client.signIn = null;
          fapi.adoptSession(client, signedIn.sessionId);
        });
        fapi.touch(signedIn.sessionId);
        return fapi.respond(signUpWire(signUp), rc, origin);
      },
    },
  ];
}
