import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/**
 * A Clerk-looking id: prefix + 27 base62 characters (~160 bits), e.g. `user_2abc…`, `sess_…`,
 * `idn_…`, `msg_…`. Session ids double as the bearer secret of the dev token endpoint, so they
 * must be unguessable, hence crypto randomness and rejection sampling (no modulo bias).
 */
export function newId(prefix: string, length = 27): string {
  let out = "";
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += ALPHABET[byte % 62];
    }
  }
  return `${prefix}_${out}`;
}
