import { createHash, randomInt, timingSafeEqual } from "node:crypto";
import { HttpError } from "../http.ts";

/** Clerk's email codes live 10 minutes. */
export const CODE_LIFETIME_MS = 10 * 60 * 1000;
/** Wrong attempts one code takes; the last of them fails the verification (Clerk: a new code is needed). */
export const MAX_CODE_ATTEMPTS = 5;

export type CodeStrategy = "email_code" | "reset_password_email_code";

/**
 * A code sent by email and not yet used up: what a sign-in's first factor or a sign-up's email
 * verification keeps (persisted with the client). Only the code's SHA-256 is kept; the mailbox
 * holds the code itself, in memory.
 */
export interface CodeVerification {
  id: string;
  strategy: CodeStrategy;
  emailAddressId: string | null;
  codeHash: string;
  /** Wrong attempts so far. */
  attempts: number;
  expireAt: number;
  status: "unverified" | "verified" | "failed";
}

export type CodeOutcome = "verified" | "incorrect" | "expired" | "failed" | "already_verified";

/** Six digits, uniformly from the CSPRNG. */
export function newCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, "0");
}

const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();

export function codeHash(code: string): string {
  return digest(code).toString("hex");
}

/** The verification's status as Clerk shows it: an unverified code past its expiry is `expired`. */
export function visibleStatus(
  v: CodeVerification,
  now: number,
): "unverified" | "verified" | "failed" | "expired" {
  return v.status === "unverified" && now >= v.expireAt ? "expired" : v.status;
}

/** Why an attempt cannot be made at all (checked before the throttle is charged), or undefined. */
export function unusable(
  v: CodeVerification,
  now: number,
): Exclude<CodeOutcome, "verified" | "incorrect"> | undefined {
  const status = visibleStatus(v, now);
  if (status === "verified") return "already_verified";
  if (status === "expired" || status === "failed") return status;
  return undefined;
}

/**
 * Checks a code (constant time, on digests of equal length) and records the attempt: a right
 * code verifies, a wrong one counts, and the MAX_CODE_ATTEMPTS-th wrong one fails the
 * verification for good. Mutates `v`; the caller persists it.
 */
export function attemptCode(v: CodeVerification, code: string, now: number): CodeOutcome {
  const refused = unusable(v, now);
  if (refused) return refused;
  if (timingSafeEqual(digest(code), Buffer.from(v.codeHash, "hex"))) {
    v.status = "verified";
    return "verified";
  }
  v.attempts += 1;
  if (v.attempts >= MAX_CODE_ATTEMPTS) v.status = "failed";
  return "incorrect";
}

/** Clerk's error for an attempt that did not verify (422, on the `code` field). */
export function codeError(outcome: Exclude<CodeOutcome, "verified">): HttpError {
  const meta = { param_name: "code" };
  switch (outcome) {
    case "incorrect":
      return new HttpError(422, "form_code_incorrect", "Incorrect code", "Incorrect code", meta);
    case "expired":
      return new HttpError(
        422,
        "verification_expired",
        "This verification has expired. You must create a new one.",
        "This verification has expired. You must create a new one.",
        meta,
      );
    case "failed":
      return new HttpError(
        422,
        "verification_failed",
        "Too many failed attempts. You have to try again with the same or another method.",
        "Too many failed attempts. You have to try again with the same or another method.",
        meta,
      );
    case "already_verified":
      return new HttpError(
        422,
        "verification_already_verified",
        "This verification has already been verified.",
        "This verification has already been verified.",
        meta,
      );
  }
}

/** `code`: at most this many characters are read (a longer one is refused before it is compared). */
export const MAX_CODE_LENGTH = 16;
