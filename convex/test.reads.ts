/**
 * Counting what a query reads: each document convex-test's engine reads from an index range (or
 * a scan) goes through its metrics tracker. (Two dots in the file name: `npx convex deploy`
 * skips it, as it skips *.test.ts.)
 */
import { TransactionMetricsTracker } from "convex-test/dist/transactionMetrics.js";
import { vi } from "vitest";

/** Runs `run` and counts the documents it read. */
export async function documentsRead<T>(run: () => Promise<T>): Promise<{ reads: number; result: T }> {
  const spy = vi.spyOn(TransactionMetricsTracker.prototype, "trackRead");
  const result = await run();
  const reads = spy.mock.calls.length;
  spy.mockRestore();
  return { reads, result };
}
