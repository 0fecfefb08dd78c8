import type { PaginationOptions, PaginationResult } from "convex/server";
import { fail } from "./errors";

/** Pages are at most this long: a page is one subscription's worth of documents. */
export const MAX_PAGE_SIZE = 100;

/**
 * Runs a paginated read with the caller's options, turning what Convex would throw as an
 * untyped error (a non-positive or huge page size, a cursor that is not one of ours) into
 * INVALID_INPUT.
 */
export async function paginateChecked<T>(
  opts: PaginationOptions,
  paginate: (opts: PaginationOptions) => Promise<PaginationResult<T>>,
): Promise<PaginationResult<T>> {
  if (!Number.isInteger(opts.numItems) || opts.numItems < 1 || opts.numItems > MAX_PAGE_SIZE) {
    fail("INVALID_INPUT", `numItems must be a whole number from 1 to ${MAX_PAGE_SIZE}`, {
      issues: [{ path: "paginationOpts.numItems", message: "out of range" }],
    });
  }
  for (const limit of ["maximumRowsRead", "maximumBytesRead"] as const) {
    const value = opts[limit];
    if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
      fail("INVALID_INPUT", `${limit} must be a positive whole number`, {
        issues: [{ path: `paginationOpts.${limit}`, message: "out of range" }],
      });
    }
  }
  try {
    return await paginate(opts);
  } catch (error) {
    // Both cursors come from the caller (usePaginatedQuery sends endCursor to pin a page's end).
    const forged = opts.cursor !== null ? "cursor" : opts.endCursor != null ? "endCursor" : null;
    if (forged !== null && !(error instanceof Error && "data" in error)) {
      // "InvalidCursor" in the message is what makes usePaginatedQuery restart from the first page.
      fail("INVALID_INPUT", "InvalidCursor: the pagination cursor is not valid for this query", {
        issues: [{ path: `paginationOpts.${forged}`, message: "invalid cursor" }],
      });
    }
    throw error;
  }
}
