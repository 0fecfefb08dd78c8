import { HttpError, notFound } from "../http.ts";
import { newId } from "../ids.ts";
import type { Route } from "../routes/route.ts";
import { clientKey, refusalResult } from "../throttle.ts";
import type { SignInRecord } from "./clientRecord.ts";
import type { Fapi, RequestClient } from "./fapi.ts";
import { signInWire } from "./json.ts";
import { fapiPath, LOCALE } from "./paths.ts";
import { field, readForm, rejectUnknown } from "./request.ts";

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

function requirePasswordStrategy(strategy: string | undefined, required: boolean): void {
  if (strategy === "password" || (strategy === undefined && !required)) return;
  throw new HttpError(
    422,
    "form_param_value_invalid",
    "is invalid",
    "Only the password strategy is available.",
    { param_name: "strategy" },
  );
}

/**
 * Sign-in with email and password, in Clerk's two steps (`POST /v1/client/sign_ins` with the
 * identifier → `needs_first_factor`; `…/attempt_first_factor` with the password → `complete`) or
 * in one (the password manager's hidden field: both in the first call). The password goes through
 * `Accounts.signIn`, so the throttle of the dev API applies: refused attempts answer 429
 * `user_locked` / `too_many_requests`. Unlike the dev API, an unknown email is told apart
 * (`form_identifier_not_found`), as Clerk does.
 */
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
    if (result.outcome === "throttled") return refusalResult(result.refusal);
    if (result.outcome === "bad_credentials") throw passwordIncorrect();
    const { sessionId } = result.signedIn;
    fapi.save(rc, (client) => {
      signIn.status = "complete";
      signIn.createdSessionId = sessionId;
      client.signIn = signIn;
      client.signUp = null;
      fapi.adoptSession(client, sessionId);
    });
    fapi.touch(sessionId);
    return fapi.respond(signInWire(signIn, fapi.accounts.getUser(signIn.userId)), rc, origin);
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
        return fapi.respond(signInWire(signIn, user), rc, origin);
      },
    },
    {
      method: "POST",
      pattern: fapiPath("/client/sign_ins/([^/]+)/attempt_first_factor"),
      access: "fapi",
      handle: async ({ req, origin, params: [id = ""] }) => {
        const form = await readForm(req);
        const rc = fapi.existingClient(req);
        const signIn = rc?.client.signIn;
        if (!rc || !signIn || signIn.id !== id) throw notFound("sign in");
        rejectUnknown(form, ["strategy", "password"]);
        requirePasswordStrategy(field(form, "strategy", { max: 64 }), true);
        const password = field(form, "password", { required: true, max: MAX_PASSWORD });
        if (signIn.status === "complete") {
          throw new HttpError(
            422,
            "verification_already_verified",
            "already verified",
            "This sign-in is already complete.",
          );
        }
        return attemptPassword(rc, { ...signIn }, password, req.socket.remoteAddress, origin);
      },
    },
  ];
}
