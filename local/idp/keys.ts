import { join } from "node:path";
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type CryptoKey,
  type JWK,
} from "jose";
import { z } from "zod";
import { readJsonFile, writeJsonFileAtomic } from "./jsonFile.ts";

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  /** What JWKS serves: the public half only, with `kid`, `alg` and `use`. */
  publicJwk: JWK;
}

const keyFile = z.object({
  kid: z.string().min(1),
  alg: z.literal("RS256"),
  privateJwk: z.looseObject({ kty: z.literal("RSA"), n: z.string(), e: z.string(), d: z.string() }),
});

function publicHalf(jwk: JWK, kid: string): JWK {
  return { kty: "RSA", n: jwk.n, e: jwk.e, kid, alg: "RS256", use: "sig" };
}

/**
 * The RS256 key pair, generated once per data dir and kept as a JWK. Keeping it (rather than
 * minting one per run) means tokens issued before a restart still verify, and a Convex backend
 * that cached the JWKS keeps working. The `kid` is the RFC 7638 thumbprint, so it is stable and
 * derived from the key itself.
 */
export async function loadOrCreateSigningKey(dataDir: string): Promise<SigningKey> {
  const path = join(dataDir, "signing-key.json");
  const stored = readJsonFile(path);
  if (stored !== undefined) {
    const parsed = keyFile.safeParse(stored);
    if (!parsed.success) throw new Error(`${path} is not a signing key; start with --reset to wipe it`);
    const { kid, privateJwk } = parsed.data;
    const privateKey = (await importJWK(privateJwk, "RS256")) as CryptoKey;
    return { kid, privateKey, publicJwk: publicHalf(privateJwk, kid) };
  }

  const { privateKey, publicKey } = await generateKeyPair("RS256", {
    modulusLength: 2048,
    extractable: true,
  });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  writeJsonFileAtomic(path, { kid, alg: "RS256", privateJwk: await exportJWK(privateKey) });
  return { kid, privateKey, publicJwk: publicHalf(publicJwk, kid) };
}
