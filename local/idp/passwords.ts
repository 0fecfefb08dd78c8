import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";

/** A stored password: scrypt with a per-user salt, parameters kept so they can change later. */
export interface PasswordHash {
  algorithm: "scrypt";
  salt: string;
  hash: string;
  N: number;
  r: number;
  p: number;
}

// OWASP's scrypt floor (N=2^17) costs ~0.3 s per hash, which would make every test sign-in
// slow; 2^14 (Node's default, ~40 ms) is plenty for a loopback dev IdP holding test accounts.
const PARAMS = { N: 16_384, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize("NFKC"), salt, KEY_LENGTH, options, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

export async function hashPassword(password: string): Promise<PasswordHash> {
  const salt = randomBytes(16);
  const hash = await derive(password, salt, PARAMS);
  return { algorithm: "scrypt", salt: salt.toString("base64"), hash: hash.toString("base64"), ...PARAMS };
}

export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  const expected = Buffer.from(stored.hash, "base64");
  const actual = await derive(password, Buffer.from(stored.salt, "base64"), stored);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

let decoy: Promise<PasswordHash> | undefined;

/**
 * A hash to check against when the email is unknown, so a wrong email costs the same scrypt
 * run as a wrong password and response times do not reveal which accounts exist.
 */
export function decoyHash(): Promise<PasswordHash> {
  decoy ??= hashPassword(randomBytes(16).toString("hex"));
  return decoy;
}
