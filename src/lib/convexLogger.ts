import type { ConvexReactClientOptions } from "convex/react";
import { ErrorCode } from "../../convex/lib/errors";

const TYPED_REFUSAL = /Uncaught ConvexError: (\{[\s\S]*\})/;
const CODES = new Set<string>(Object.values(ErrorCode));

/**
 * Is this Convex client log line a typed refusal (`ConvexError({ code })` from our map)? Those are
 * expected outcomes the UI handles and explains (quota, validation, sign-in), not faults.
 */
export function isTypedRefusal(args: unknown[]): boolean {
  const text = args.filter((a): a is string => typeof a === "string").join(" ");
  const json = TYPED_REFUSAL.exec(text)?.[1];
  if (!json) return false;
  try {
    const data = JSON.parse(json) as { code?: unknown };
    return typeof data.code === "string" && CODES.has(data.code);
  } catch {
    return false;
  }
}

/**
 * The Convex client logs every failed call as a console error. Typed refusals go to the debug
 * level instead, so the console's errors are the ones worth reading; everything else is as before.
 */
export const convexLogger: Exclude<ConvexReactClientOptions["logger"], boolean | undefined> = {
  logVerbose: (...args: unknown[]) => console.debug(...args),
  log: (...args: unknown[]) => console.log(...args),
  warn: (...args: unknown[]) => console.warn(...args),
  error: (...args: unknown[]) => (isTypedRefusal(args) ? console.debug(...args) : console.error(...args)),
};
