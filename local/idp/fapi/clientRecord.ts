import type { PasswordHash } from "../passwords.ts";
import type { CodeVerification } from "./codes.ts";

/**
 * What the IdP keeps per Frontend API client (one browser, found by its `__client` cookie): the
 * sessions it signed in, and the sign-in or sign-up in progress. Persisted in `state.json` with
 * the sessions, so a restarted IdP still knows the browsers signed in to it.
 */
export interface SignInRecord {
  id: string;
  /** The email typed (as typed; matched case-insensitively). */
  identifier: string;
  /** The user it names, once the identifier was found. */
  userId: string;
  status: "needs_first_factor" | "needs_new_password" | "complete";
  /** The email code (sign-in or password reset) last prepared; absent in records of older runs. */
  firstFactor?: CodeVerification | null;
  createdSessionId: string | null;
  createdAt: number;
}

export interface SignUpRecord {
  id: string;
  /** `missing_requirements` until the password is given and the email verified by code. */
  status: "missing_requirements" | "complete";
  emailAddress: string;
  firstName: string | null;
  lastName: string | null;
  /** The password, hashed as soon as it is given; the user is created only once complete. */
  passwordHash?: PasswordHash | null;
  /** The email verification last prepared (absent: none yet, or a record of an older run). */
  emailVerification?: CodeVerification | null;
  createdUserId: string | null;
  createdSessionId: string | null;
  createdAt: number;
}

export interface ClientRecord {
  id: string;
  /** SHA-256 (hex) of the `__client` cookie value; the value itself is never stored. */
  tokenHash: string;
  /** Sessions started in this client, oldest first; ended ones are dropped when noticed. */
  sessionIds: string[];
  lastActiveSessionId: string | null;
  signIn: SignInRecord | null;
  signUp: SignUpRecord | null;
  createdAt: number;
  updatedAt: number;
  /** The cookie's expiry: 30 days after the client last changed. */
  expireAt: number;
}
