import { z } from "zod";
import type { Accounts } from "../accounts.ts";
import { HttpError, ok, parseInput, readJson } from "../http.ts";
import { clientKey, refusalResult } from "../throttle.ts";
import type { Route } from "./route.ts";

const email = z.string().trim().toLowerCase().pipe(z.email().max(254));
const name = z.string().trim().max(100).optional();

const signUpBody = z.object({
  email,
  // Clerk's default minimum is 8; the maximum only bounds the work scrypt does.
  password: z.string().min(8, "password must be at least 8 characters").max(256),
  firstName: name,
  lastName: name,
});

const signInBody = z.object({
  email: z.string().trim().toLowerCase().max(254),
  password: z.string().max(256),
});

const badCredentials = () => new HttpError(401, "form_password_incorrect", "Email or password is incorrect.");

const sessionGone = () =>
  new HttpError(401, "session_not_active", "This session has ended or does not exist; sign in again.");

/**
 * Shortcuts for tests and tools on this machine (the SPA uses Clerk's Frontend API, `fapi/`):
 * sign-up, sign-in, token refresh and sign-out as JSON calls. They take the Backend API key
 * (`Authorization: Bearer <secret key>`, access `backend`, checked in `dispatch.ts` before the
 * handler reads the body), like the dev mailbox: loopback is not enough, since sign-up here makes a
 * *verified* account for any email without a code and the token route mints tokens for any session
 * id; Clerk's own way to create users and sessions is its Backend API, which takes that key too.
 * A missing or wrong key is a 401 `authentication_invalid` and changes nothing. No CORS: no page
 * can read a token. (`/v1/dev/avatars/*` are public images, `avatars.ts`.)
 */
export function devApiRoutes(accounts: Accounts): Route[] {
  return [
    {
      method: "POST",
      pattern: /^\/v1\/dev\/sign_up$/,
      access: "backend",
      handle: async ({ req, origin }) => {
        const { password, ...profile } = parseInput(signUpBody, await readJson(req));
        const signedIn = await accounts.signUp(profile, password, origin);
        if (!signedIn) {
          throw new HttpError(
            409,
            "form_identifier_exists",
            "That email address is taken. Please try another.",
          );
        }
        return ok(signedIn);
      },
    },
    {
      method: "POST",
      pattern: /^\/v1\/dev\/sign_in$/,
      access: "backend",
      handle: async ({ req, origin }) => {
        const body = parseInput(signInBody, await readJson(req));
        const client = clientKey(req.socket.remoteAddress);
        const result = await accounts.signIn(body.email, body.password, origin, client);
        if (result.outcome === "throttled") return refusalResult(result.refusal); // 429, Retry-After
        if (result.outcome === "bad_credentials") throw badCredentials();
        return ok(result.signedIn);
      },
    },
    {
      method: "POST",
      pattern: /^\/v1\/dev\/sessions\/([^/]+)\/tokens$/,
      access: "backend",
      handle: async ({ params: [sessionId = ""], origin }) => {
        const token = await accounts.mintToken(sessionId, origin);
        if (!token) throw sessionGone();
        return ok({ token });
      },
    },
    {
      method: "POST",
      pattern: /^\/v1\/dev\/sessions\/([^/]+)\/end$/,
      access: "backend",
      handle: ({ params: [sessionId = ""] }) => {
        accounts.endSession(sessionId);
        return ok({});
      },
    },
  ];
}
