import { HttpError, notFound } from "../http.ts";
import { newId } from "../ids.ts";
import type { Route } from "../routes/route.ts";
import { clientKey, refusalResult } from "../throttle.ts";
import type { SignInRecord } from "./clientRecord.ts";
import type { Fapi, RequestClient } from "./fapi.ts";
import { attemptCode, codeError, MAX_CODE_LENGTH, unusable, type CodeStrategy } from "./codes.ts";
import { signInWire } from "./json.ts";
import { fapiPath, LOCALE } from "./paths.ts";
import { field, readForm, rejectUnknown } from "./request.ts";
import { checkPasswordLength } from "./signUpRoutes.ts";

const MAX_IDENTIFIER = 254;
/** Bounds the work scrypt does; longer than any password clerk-js lets through (72). */
const MAX_PASSWORD = 256;

export const identifierNotFound = () =>
  new HttpError(
    422,
    "form_identifier_not_found",
    "Couldn't find your account.",
    "Couldn't find your account.",
    {
      param_name: "identifier",
    },
  );

export const passwordIncorrect = () =>
  new HttpError(
    422,
    "form_password_incorrect",
    "Password is incorrect. Try again, or use another method.",
    "Password is incorrect. Try again, or use another method.",
    { param_name: "password" },
  );

function strategyInvalid(longMessage: string): HttpError {
  return new HttpError(422, "form_param_value_invalid", "is invalid", longMessage, {
    param_name: "strategy",
  });
}

function requirePasswordStrategy(strategy: string | undefined, required: boolean): void {
  if (strategy === "password" || (strategy === undefined && !required)) return;
  throw strategyInvalid("Only the password strategy is available here.");
}

const CODE_STRATEGIES: readonly string[] = ["email_code", "reset_password_email_code"];
const isCodeStrategy = (s: string | undefined): s is CodeStrategy => CODE_STRATEGIES.includes(s ?? "");

function notPrepared(): HttpError {
  return new HttpError(
    422,
    "verification_missing",
    "not prepared",
    "Send a code first (prepare_first_factor with this strategy).",
    { param_name: "strategy" },
  );
}

/**
 * Sign-in with email and password, in Clerk's two steps (`POST /v1/client/sign_ins` with the
 * identifier → `needs_first_factor`; `…/attempt_first_factor` with the password → `complete`) or
 * in one (the password manager's hidden field: both in the first call). The password goes through
 * `Accounts.signIn`, so the throttle of the dev API applies: refused attempts answer 429
 * `too_many_requests` (the client's bucket, the account's backoff) or `user_locked` (its lockout). Unlike the dev API, an unknown email is told apart
 * (`form_identifier_not_found`), as Clerk does.
 */
/** A backoff stays on the password step: clerk-js leaves it for `user_locked` (see refusalResult). */
const FAPI_REFUSAL = { backoffAsTooManyRequests: true };

export function signInRoutes(fapi: Fapi): Route[] {
  /** Checks the password; on success the session becomes the client's and the sign-in completes. */
  async function attemptPassword(
    rc: RequestClient,
    signIn: SignInRecord,
    password: string,
    remoteAddress: string | undefined,
    origin: string | undefined,
  ) {
    const result = await fapi.accounts.signIn(signIn.identifier, password, origin, clientKey(remoteAddress));
    if (result.outcome === "throttled") return refusalResult(result.refusal, FAPI_REFUSAL);
    if (result.outcome === "bad_credentials") throw passwordIncorrect();
    const { sessionId } = result.signedIn;
    fapi.save(rc, (client) => {
      signIn.status = "complete";
      signIn.firstFactor = null;
      signIn.createdSessionId = sessionId;
      client.signIn = signIn;
      client.signUp = null;
      fapi.adoptSession(client, sessionId);
    });
    fapi.touch(sessionId);
    return fapi.respond(signInWire(signIn, fapi.accounts.getUser(signIn.userId), fapi.now()), rc, origin);
  }

  /** Starts a session for the sign-in's user, makes it the client's and completes the sign-in. */
  async function complete(rc: RequestClient, signIn: SignInRecord, origin: string | undefined) {
    const signedIn = await fapi.accounts.startSessionFor(signIn.userId, origin);
    if (!signedIn) throw identifierNotFound(); // deleted meanwhile
    fapi.save(rc, (client) => {
      signIn.status = "complete";
      signIn.createdSessionId = signedIn.sessionId;
      client.signIn = signIn;
      client.signUp = null;
      fapi.adoptSession(client, signedIn.sessionId);
    });
    fapi.touch(signedIn.sessionId);
    return fapi.respond(signInWire(signIn, fapi.accounts.getUser(signIn.userId), fapi.now()), rc, origin);
  }

  /**
   * Checks an email code (sign-in or password reset). Attempts go through the sign-in throttle of
   * the email, like passwords: a wrong code is a failed sign-in attempt. A code that cannot be
   * used any more (expired, failed, already used) is refused before the throttle is charged.
   */
  async function attemptEmailCode(
    rc: RequestClient,
    signIn: SignInRecord,
    strategy: CodeStrategy,
    code: string,
    remoteAddress: string | undefined,
    origin: string | undefined,
  ) {
    const factor = signIn.firstFactor;
    if (!factor || factor.strategy !== strategy) throw notPrepared();
    const now = fapi.now();
    const refused = unusable(factor, now);
    if (refused) throw codeError(refused);
    const admission = fapi.accounts.throttle.admit(signIn.identifier, clientKey(remoteAddress));
    if (!admission.admitted) return refusalResult(admission.refusal, FAPI_REFUSAL);
    const outcome = attemptCode(factor, code, now);
    if (outcome === "verified") admission.attempt.succeeded();
    else admission.attempt.failed();
    if (outcome !== "verified") {
      fapi.save(rc, (client) => {
        client.signIn = signIn;
      });
      throw codeError(outcome);
    }
    if (strategy === "email_code") return complete(rc, signIn, origin);
    fapi.save(rc, (client) => {
      signIn.status = "needs_new_password";
      client.signIn = signIn;
    });
    return fapi.respond(signInWire(signIn, fapi.accounts.getUser(signIn.userId), now), rc, origin);
  }

  /** The client's current sign-in with this id (a copy, saved back on change), or 404. */
  function currentSignIn(rc: RequestClient | undefined, id: string): SignInRecord {
    const signIn = rc?.client.signIn;
    if (!rc || !signIn || signIn.id !== id) throw notFound("sign in");
    return { ...signIn, firstFactor: signIn.firstFactor ? { ...signIn.firstFactor } : null };
  }

  function alreadyComplete(): HttpError {
    return new HttpError(
      422,
      "verification_already_verified",
      "already verified",
      "This sign-in is already complete.",
    );
  }

  return [
    {
      method: "POST",
      pattern: fapiPath("/client/sign_ins"),
      access: "fapi",
      handle: async ({ req, origin }) => {
        const form = await readForm(req);
        rejectUnknown(form, ["identifier", "password", "strategy", LOCALE]);
        const identifier = field(form, "identifier", { required: true, max: MAX_IDENTIFIER, trim: true });
        const password = field(form, "password", { max: MAX_PASSWORD });
        requirePasswordStrategy(field(form, "strategy", { max: 64 }), false);
        const user = fapi.accounts.findByEmail(identifier);
        if (!user) throw identifierNotFound();
        const rc = fapi.clientOrNew(req);
        const signIn: SignInRecord = {
          id: newId("sia"),
          identifier: identifier.toLowerCase(),
          userId: user.id,
          status: "needs_first_factor",
          createdSessionId: null,
          createdAt: fapi.now(),
        };
        if (password) return attemptPassword(rc, signIn, password, req.socket.remoteAddress, origin);
        fapi.save(rc, (client) => {
          client.signIn = signIn;
        });
        return fapi.respond(signInWire(signIn, user, fapi.now()), rc, origin);
      },
    },
    {
      method: "POST",
      pattern: fapiPath("/client/sign_ins/([^/]+)/prepare_first_factor"),
      access: "fapi",
      handle: async ({ req, origin, params: [id = ""] }) => {
        const form = await readForm(req);
        const rc = fapi.existingClient(req);
        const signIn = currentSignIn(rc, id);
        rejectUnknown(form, ["strategy", "email_address_id"]);
        const strategy = field(form, "strategy", { required: true, max: 64 });
        if (!isCodeStrategy(strategy)) {
          throw strategyInvalid("Codes are sent for email_code and reset_password_email_code only.");
        }
        const emailAddressId = field(form, "email_address_id", { max: 64 });
        if (signIn.status === "complete") throw alreadyComplete();
        const user = fapi.accounts.getUser(signIn.userId);
        if (!user) throw identifierNotFound();
        const primary = user.email_addresses.find((e) => e.id === user.primary_email_address_id);
        if (!primary || (emailAddressId !== undefined && emailAddressId !== primary.id)) {
          throw new HttpError(
            422,
            "form_param_value_invalid",
            "is invalid",
            "email_address_id is not an email address of this sign-in's user.",
            { param_name: "email_address_id" },
          );
        }
        const purpose = strategy === "email_code" ? "sign_in" : "reset_password";
        const factor = fapi.sendCode(primary.email_address, purpose, strategy, primary.id);
        fapi.save(rc!, (client) => {
          // A new code restarts the sign-in's first factor (a reset in progress starts over).
          signIn.status = "needs_first_factor";
          signIn.firstFactor = factor;
          client.signIn = signIn;
        });
        return fapi.respond(signInWire(signIn, user, fapi.now()), rc!, origin);
      },
    },
    {
      method: "POST",
      pattern: fapiPath("/client/sign_ins/([^/]+)/reset_password"),
      access: "fapi",
      handle: async ({ req, origin, params: [id = ""] }) => {
        const form = await readForm(req);
        const rc = fapi.existingClient(req);
        const signIn = currentSignIn(rc, id);
        rejectUnknown(form, ["password", "sign_out_of_other_sessions"]);
        const password = field(form, "password", { required: true, max: MAX_PASSWORD });
        checkPasswordLength(password);
        const signOut = field(form, "sign_out_of_other_sessions", { max: 5 });
        if (signOut !== undefined && signOut !== "true" && signOut !== "false") {
          throw new HttpError(422, "form_param_format_invalid", "is invalid", "Must be true or false.", {
            param_name: "sign_out_of_other_sessions",
          });
        }
        if (signIn.status !== "needs_new_password") {
          throw new HttpError(
            422,
            "form_param_value_invalid",
            "is invalid",
            "Verify a reset_password_email_code first.",
            { param_name: "password" },
          );
        }
        const user = await fapi.accounts.setPassword(signIn.userId, password, signOut === "true");
        if (!user) throw identifierNotFound();
        return complete(rc!, signIn, origin);
      },
    },
    {
      method: "POST",
      pattern: fapiPath("/client/sign_ins/([^/]+)/attempt_first_factor"),
      access: "fapi",
      handle: async ({ req, origin, params: [id = ""] }) => {
        const form = await readForm(req);
        const rc = fapi.existingClient(req);
        const signIn = currentSignIn(rc, id);
        const strategy = field(form, "strategy", { max: 64 });
        if (isCodeStrategy(strategy)) {
          rejectUnknown(form, ["strategy", "code"]);
          const code = field(form, "code", { required: true, max: MAX_CODE_LENGTH, trim: true });
          if (signIn.status === "complete") throw alreadyComplete();
          if (signIn.status === "needs_new_password") throw codeError("already_verified");
          return attemptEmailCode(rc!, signIn, strategy, code, req.socket.remoteAddress, origin);
        }
        rejectUnknown(form, ["strategy", "password"]);
        requirePasswordStrategy(strategy, true);
        const password = field(form, "password", { required: true, max: MAX_PASSWORD });
        if (signIn.status === "complete") throw alreadyComplete();
        return attemptPassword(rc!, signIn, password, req.socket.remoteAddress, origin);
      },
    },
  ];
}
