import { z } from "zod";
import { HttpError, notFound } from "../http.ts";
import { newId } from "../ids.ts";
import { hashPassword } from "../passwords.ts";
import type { Route } from "../routes/route.ts";
import type { SignUpRecord } from "./clientRecord.ts";
import { attemptCode, codeError, MAX_CODE_LENGTH } from "./codes.ts";
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from "./environment.ts";
import type { Fapi, RequestClient } from "./fapi.ts";
import { signUpWire } from "./json.ts";
import { fapiPath, LOCALE } from "./paths.ts";
import { field, formInvalid, readForm, rejectUnknown } from "./request.ts";

const MAX_NAME = 100;
const email = z.email().max(254);
const FIELDS = ["email_address", "password", "first_name", "last_name", LOCALE];

export const identifierExists = () =>
  new HttpError(
    422,
    "form_identifier_exists",
    "That email address is taken. Please try another.",
    "That email address is taken. Please try another.",
    { param_name: "email_address" },
  );

/** Clerk's bounds on a new password (sign-up and reset), as `form_password_length_too_*`. */
export function checkPasswordLength(password: string, paramName = "password"): void {
  if (password.length < PASSWORD_MIN_LENGTH) {
    throw new HttpError(
      422,
      "form_password_length_too_short",
      "Passwords must be 8 characters or more.",
      `Passwords must be ${PASSWORD_MIN_LENGTH} characters or more.`,
      { param_name: paramName },
    );
  }
  if (password.length > PASSWORD_MAX_LENGTH) {
    throw new HttpError(
      422,
      "form_password_length_too_long",
      "Password is too long.",
      `Passwords must be ${PASSWORD_MAX_LENGTH} characters or less.`,
      { param_name: paramName },
    );
  }
}

const strategyInvalid = () =>
  new HttpError(422, "form_param_value_invalid", "is invalid", "Only email_code is available.", {
    param_name: "strategy",
  });

/**
 * Sign-up with email verification by code, as Clerk does with `verify_at_sign_up`:
 * `POST /v1/client/sign_ups` (email, password, optional names) → `missing_requirements` with the
 * email unverified; `…/prepare_verification` (email_code) mails a code; `…/attempt_verification`
 * with it → the user is created (the same `user.created` webhook as the dev API's sign-up), signed
 * in, and the sign-up is `complete`. `PATCH …/sign_ups/{id}` adds or changes fields on the way (a
 * changed email needs a new code). The password is hashed when given; nothing else is kept.
 */
export function signUpRoutes(fapi: Fapi): Route[] {
  /** Reads the sign-up fields given (all optional here) and checks them. */
  async function readFields(form: URLSearchParams, emailRequired: boolean) {
    rejectUnknown(form, FIELDS);
    const given = emailRequired
      ? field(form, "email_address", { required: true, max: 254, trim: true })
      : field(form, "email_address", { max: 254, trim: true });
    const address = given?.toLowerCase();
    if (address !== undefined && !email.safeParse(address).success) {
      throw formInvalid("Email address must be a valid email address.", "email_address");
    }
    const password = field(form, "password", { max: 1024 });
    if (password !== undefined) checkPasswordLength(password);
    const name = (key: string) => {
      const value = field(form, key, { max: MAX_NAME, trim: true });
      return value === undefined ? undefined : value || null;
    };
    const firstName = name("first_name");
    const lastName = name("last_name");
    if (address !== undefined && fapi.accounts.findByEmail(address)) throw identifierExists();
    const passwordHash = password === undefined ? undefined : await hashPassword(password);
    return { address, passwordHash, firstName, lastName };
  }

  /** The client's current sign-up with this id (a copy, saved back on change), or 404. */
  function currentSignUp(rc: RequestClient | undefined, id: string): SignUpRecord {
    const signUp = rc?.client.signUp;
    if (!rc || !signUp || signUp.id !== id) throw notFound("sign up");
    if (signUp.status === "complete") {
      throw new HttpError(
        422,
        "verification_already_verified",
        "already verified",
        "This sign-up is already complete.",
      );
    }
    const v = signUp.emailVerification;
    return { ...signUp, emailVerification: v ? { ...v } : null };
  }

  /** Creates the user and signs in, once the password is given and the email verified. */
  async function completeIfReady(rc: RequestClient, signUp: SignUpRecord, origin: string | undefined) {
    if (signUp.emailVerification?.status === "verified" && signUp.passwordHash) {
      const user = fapi.accounts.createUserWithHash(
        {
          email: signUp.emailAddress,
          firstName: signUp.firstName ?? undefined,
          lastName: signUp.lastName ?? undefined,
        },
        signUp.passwordHash,
      );
      if (!user) throw identifierExists(); // taken while this sign-up waited for its code
      const signedIn = await fapi.accounts.startSessionFor(user.id, origin);
      if (!signedIn) throw identifierExists();
      signUp.status = "complete";
      signUp.passwordHash = null;
      signUp.createdUserId = signedIn.userId;
      signUp.createdSessionId = signedIn.sessionId;
      fapi.save(rc, (client) => {
        client.signUp = signUp;
        client.signIn = null;
        fapi.adoptSession(client, signedIn.sessionId);
      });
      fapi.touch(signedIn.sessionId);
    } else {
      fapi.save(rc, (client) => {
        client.signUp = signUp;
      });
    }
    return fapi.respond(signUpWire(signUp, fapi.now()), rc, origin);
  }

  return [
    {
      method: "POST",
      pattern: fapiPath("/client/sign_ups"),
      access: "fapi",
      handle: async ({ req, origin }) => {
        const form = await readForm(req);
        const { address, passwordHash, firstName, lastName } = await readFields(form, true);
        const rc = fapi.clientOrNew(req);
        const signUp: SignUpRecord = {
          id: newId("sua"),
          status: "missing_requirements",
          emailAddress: address!,
          firstName: firstName ?? null,
          lastName: lastName ?? null,
          passwordHash: passwordHash ?? null,
          emailVerification: null,
          createdUserId: null,
          createdSessionId: null,
          createdAt: fapi.now(),
        };
        return completeIfReady(rc, signUp, origin);
      },
    },
    {
      method: "PATCH",
      pattern: fapiPath("/client/sign_ups/([^/]+)"),
      access: "fapi",
      handle: async ({ req, origin, params: [id = ""] }) => {
        const form = await readForm(req);
        const rc = fapi.existingClient(req);
        const signUp = currentSignUp(rc, id);
        const { address, passwordHash, firstName, lastName } = await readFields(form, false);
        if (address !== undefined && address !== signUp.emailAddress) {
          signUp.emailAddress = address;
          signUp.emailVerification = null; // the code went to the old address
        }
        if (passwordHash) signUp.passwordHash = passwordHash;
        if (firstName !== undefined) signUp.firstName = firstName;
        if (lastName !== undefined) signUp.lastName = lastName;
        return completeIfReady(rc!, signUp, origin);
      },
    },
    {
      method: "POST",
      pattern: fapiPath("/client/sign_ups/([^/]+)/prepare_verification"),
      access: "fapi",
      handle: async ({ req, origin, params: [id = ""] }) => {
        const form = await readForm(req);
        const rc = fapi.existingClient(req);
        const signUp = currentSignUp(rc, id);
        rejectUnknown(form, ["strategy"]);
        if (field(form, "strategy", { required: true, max: 64 }) !== "email_code") throw strategyInvalid();
        if (signUp.emailVerification?.status === "verified") throw codeError("already_verified");
        signUp.emailVerification = fapi.sendCode(signUp.emailAddress, "sign_up", "email_code", null);
        fapi.save(rc!, (client) => {
          client.signUp = signUp;
        });
        return fapi.respond(signUpWire(signUp, fapi.now()), rc!, origin);
      },
    },
    {
      method: "POST",
      pattern: fapiPath("/client/sign_ups/([^/]+)/attempt_verification"),
      access: "fapi",
      handle: async ({ req, origin, params: [id = ""] }) => {
        const form = await readForm(req);
        const rc = fapi.existingClient(req);
        const signUp = currentSignUp(rc, id);
        rejectUnknown(form, ["strategy", "code"]);
        if (field(form, "strategy", { required: true, max: 64 }) !== "email_code") throw strategyInvalid();
        const code = field(form, "code", { required: true, max: MAX_CODE_LENGTH, trim: true });
        const v = signUp.emailVerification;
        if (!v) {
          throw new HttpError(
            422,
            "verification_missing",
            "not prepared",
            "Send a code first (prepare_verification).",
            { param_name: "strategy" },
          );
        }
        const outcome = attemptCode(v, code, fapi.now());
        if (outcome !== "verified") {
          if (outcome === "incorrect") {
            fapi.save(rc!, (client) => {
              client.signUp = signUp;
            });
          }
          throw codeError(outcome);
        }
        return completeIfReady(rc!, signUp, origin);
      },
    },
  ];
}
