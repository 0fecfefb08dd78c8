import { env } from "../../lib/env";
import { idpErrorMessage } from "./idpErrors";

/** The local identity provider's browser endpoints (a stand-in for Clerk's Frontend API). */
export type LocalSession = { userId: string; sessionId: string; token: string };

export class IdpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function post<T>(path: string, body: unknown = {}): Promise<T> {
  const response = await fetch(new URL(path, env.VITE_LOCAL_IDP_URL), {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const data = (await response.json().catch(() => ({}))) as unknown;
  if (!response.ok) throw new IdpError(response.status, idpErrorMessage(response.status, data));
  return data as T;
}

export const idp = {
  signIn: (email: string, password: string) => post<LocalSession>("/v1/dev/sign_in", { email, password }),
  signUp: (input: { email: string; password: string; firstName?: string; lastName?: string }) =>
    post<LocalSession>("/v1/dev/sign_up", input),
  freshToken: (sessionId: string) =>
    post<{ token: string }>(`/v1/dev/sessions/${encodeURIComponent(sessionId)}/tokens`),
  end: (sessionId: string) => post<object>(`/v1/dev/sessions/${encodeURIComponent(sessionId)}/end`),
};

/** Seconds until the token's `exp` (decoded, not verified: the server verifies). */
export function secondsLeft(token: string): number {
  try {
    const payload = JSON.parse(atob(token.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))) as {
      exp?: number;
    };
    return (payload.exp ?? 0) - Date.now() / 1000;
  } catch {
    return 0;
  }
}
