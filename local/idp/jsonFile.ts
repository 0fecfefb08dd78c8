import { randomBytes } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname } from "node:path";

/**
 * Reads a JSON file; undefined when it does not exist, an error naming the file when it is corrupt.
 * A file (0600) or directory (0700) that others may read is tightened first: data from an older
 * version, or copied in, holds the private key and password hashes all the same.
 */
export function readJsonFile(path: string): unknown {
  if (!existsSync(path)) return undefined;
  restrict(dirname(path), 0o700);
  restrict(path, 0o600);
  try {
    return JSON.parse(readFileSync(path, "utf8")) as unknown;
  } catch (error) {
    throw new Error(`Cannot read ${path}; start with --reset to wipe the IdP's data`, { cause: error });
  }
}

/**
 * Writes JSON so that a crash leaves either the old or the new file, never half of one:
 * write a sibling temp file, then rename over the target (atomic on one filesystem).
 * Synchronous on purpose: a change is on disk before its HTTP response is sent, and two
 * writes can never interleave. The files are a few kB, so the event loop barely notices.
 * Mode 0600: the files hold the private signing key and password hashes.
 */
export function writeJsonFileAtomic(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    writeFileSync(temp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

function restrict(path: string, mode: number): void {
  try {
    if ((statSync(path).mode & 0o777) !== mode) chmodSync(path, mode);
  } catch {
    // Not ours to change (or a filesystem without modes): the file is still usable.
  }
}
