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
  status: "needs_first_factor" | "complete";
  createdSessionId: string | null;
  createdAt: number;
}

export interface SignUpRecord {
  id: string;
  status: "complete";
  emailAddress: string;
  firstName: string | null;
  lastName: string | null;
  createdUserId: string;
  createdSessionId: string;
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
