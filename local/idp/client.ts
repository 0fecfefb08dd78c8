/**
 * A small client for the IdP's dev API (`/v1/dev/*`: sign-up, sign-in, tokens, sign-out as JSON
 * shortcuts, and billing's clock), for tests, e2e set-up, benchmarks and tools. The dev API takes the IdP's Backend API
 * key, so every client is made with it. Uses only `fetch`.
 */

import type { SignedIn } from "./accounts.ts";
import type { BackendSubscriptionJson } from "./billing/backendJson.ts";

export type { BackendSubscriptionJson, SignedIn };

export interface SignUpInput {
  email: string;
  password: string;
  firstName?: string;
  lastName?: string;
}

/** A non-2xx answer, with Clerk's first error code (e.g. `form_password_incorrect`). */
export class IdpRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface IdpClientOptions {
  /**
   * The IdP's Backend API key (`CLERK_SECRET_KEY`; a test IdP's `secretKey`), sent as
   * `Authorization: Bearer`: the dev API answers 401 `authentication_invalid` without it.
   */
  secretKey: string;
  /** Sent as `Origin` (outside a browser), which becomes the token's `azp`. */
  origin?: string;
}

export function idpClient(baseUrl: string, options: IdpClientOptions) {
  // An unset variable read as "" would only fail later, as a 401 on the first call.
  if (!options.secretKey) throw new Error("idpClient needs the IdP's secret key (CLERK_SECRET_KEY)");
  async function post<T>(path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Authorization: `Bearer ${options.secretKey}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (options.origin) headers["Origin"] = options.origin;
    const response = await fetch(`${baseUrl}${path}`, {
      method: "POST",
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await response.json()) as unknown;
    if (!response.ok) {
      const first = (json as { errors?: Array<{ code?: string; long_message?: string }> }).errors?.[0];
      throw new IdpRequestError(
        response.status,
        first?.code ?? "unknown",
        `${path} answered ${response.status}: ${first?.long_message ?? ""}`,
      );
    }
    return json as T;
  }

  return {
    signUp: (input: SignUpInput) => post<SignedIn>("/v1/dev/sign_up", input),
    signIn: (email: string, password: string) => post<SignedIn>("/v1/dev/sign_in", { email, password }),
    /** A fresh session token (what Clerk's `getToken()` returns). */
    token: async (sessionId: string) =>
      (await post<{ token: string }>(`/v1/dev/sessions/${encodeURIComponent(sessionId)}/tokens`)).token,
    signOut: async (sessionId: string) => {
      await post<Record<string, never>>(`/v1/dev/sessions/${encodeURIComponent(sessionId)}/end`);
    },
    /**
     * Clerk Billing: the user's paid period ends now. A canceled or past-due Pro ends (Free
     * starts); an active Pro renews on the default card (or becomes past due if it declines).
     * Returns the subscription as the Backend API shows it.
     */
    endBillingPeriod: (userId: string) =>
      post<BackendSubscriptionJson>(`/v1/dev/billing/users/${encodeURIComponent(userId)}/end_period`),
    /** Clerk Billing: the user's active Pro fails to renew and becomes past due. */
    makeBillingPastDue: (userId: string) =>
      post<BackendSubscriptionJson>(`/v1/dev/billing/users/${encodeURIComponent(userId)}/past_due`),
  };
}

export type IdpClient = ReturnType<typeof idpClient>;
