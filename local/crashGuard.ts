/**
 * The last resort of the local stack's processes (the backend's CLI, `npm start` with the IdP and
 * Vite, the IdP's CLI) for errors that escape every handler: an `unhandledRejection` or
 * `uncaughtException` is printed loudly, with its stack, and the process keeps serving.
 *
 * Why keep serving instead of exiting (Node's default):
 * - The IdP's state changes are synchronous (change, then write the file, in one call), so no
 *   escaped asynchronous error can land between the two.
 * - The backend's durable state cannot be what broke. A journal append or fsync failure never
 *   throws up to here: `durabilityLost` (engine.ts) stops the process itself, with exit code 70, before any
 *   response acknowledges the write. So no acknowledged-but-unsaved write hides behind this.
 * - The in-memory database is only changed inside convex-test transactions, whose failures come
 *   back as function results, and commit bookkeeping failures are caught and logged at the commit.
 * - What does reach here is a bug on one connection's path (a request, upgrade or socket
 *   callback, a timer). Exiting turns it into a denial of service of the whole offline stack:
 *   `npm start` stops the IdP and Vite too when the backend exits.
 * The line says BUG so it is not mistaken for a client's error; fix the cause, do not rely on it.
 */
import { inspect } from "node:util";

type Write = (text: string) => void;

export function installCrashGuards(who: string, write: Write = (text) => process.stderr.write(text)): void {
  const report = (kind: string, error: unknown) => {
    // Our own output closed (the terminal or parent went away): nobody can read a report, and
    // writing one would fail the same way again.
    if ((error as NodeJS.ErrnoException | null)?.code === "EPIPE") return;
    const detail = error instanceof Error ? (error.stack ?? String(error)) : inspect(error);
    write(`\n${who}: BUG: ${kind} (still serving). Please report it with this trace:\n${detail}\n\n`);
  };
  process.on("unhandledRejection", (reason) => report("unhandled promise rejection", reason));
  process.on("uncaughtException", (error) => report("uncaught exception", error));
}
