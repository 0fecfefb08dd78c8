/**
 * The caller of an HTTP API request or http action, from its Authorization header, verified as
 * a sync session's token is (auth.ts). No header is anonymous; anything but `Bearer <token>`
 * is refused, admin keys (`Convex <key>`) included, which this backend does not support.
 */
import { AuthFailure, type AuthVerifier, type Identity } from "./auth.ts";

/** The identity a `Bearer` token proves; throws AuthFailure for a bad header or token. */
export async function identityFromHeader(
  verifier: AuthVerifier,
  header: string | undefined,
): Promise<Identity | null> {
  if (!header) return null;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  if (!match) {
    if (/^Convex\s+/i.test(header))
      throw new AuthFailure("BadAdminKey", "Admin keys are not supported by the local backend");
    throw new AuthFailure("InvalidAuthHeader", "Authorization header must be `Bearer <token>`");
  }
  return (await verifier.verify(match[1]!)).identity;
}
