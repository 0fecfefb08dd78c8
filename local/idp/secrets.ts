/**
 * The dev secrets shared by the IdP and the local backend: the svix webhook signing secret
 * (`CLERK_WEBHOOK_SECRET`) and the Backend API key (`CLERK_SECRET_KEY`). Either one signs or
 * authorizes an admin grant, so neither is a constant: each data dir gets random ones on first
 * start, kept in `secrets.json` (mode 0600, dir 0700) with the rest of the IdP's data, so they
 * survive restarts and `--reset` replaces them.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { z } from "zod";
import { readJsonFile, writeJsonFileAtomic } from "./jsonFile.ts";

export interface DevSecrets {
  /** `whsec_` + base64 of 32 random bytes, the format svix and Clerk use. */
  webhookSecret: string;
  /** `sk_test_` + 32 random bytes, base64url. */
  secretKey: string;
}

export const SECRETS_FILE = "secrets.json";

const secretsFile = z.object({
  webhookSecret: z.string().regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/),
  secretKey: z.string().regex(/^sk_test_[A-Za-z0-9_-]{16,}$/),
});

export function generateDevSecrets(): DevSecrets {
  return {
    webhookSecret: `whsec_${randomBytes(32).toString("base64")}`,
    secretKey: `sk_test_${randomBytes(32).toString("base64url")}`,
  };
}

/** The secrets of `dataDir`, created on first use. A file that is not ours is an error, never replaced. */
export function loadOrCreateDevSecrets(dataDir: string): DevSecrets & { file: string } {
  const file = join(dataDir, SECRETS_FILE);
  const stored = readJsonFile(file);
  if (stored !== undefined) {
    const parsed = secretsFile.safeParse(stored);
    if (!parsed.success)
      throw new Error(`${file} does not hold the dev secrets; start with --reset to wipe it`);
    return { ...parsed.data, file };
  }
  const secrets = generateDevSecrets();
  writeJsonFileAtomic(file, secrets);
  return { ...secrets, file };
}
