import { env } from "../_generated/server";
import { createClerkClient } from "@clerk/backend";
import { isClerkAPIResponseError } from "@clerk/backend/errors";
import { fail } from "./errors";
import type { ItemState } from "./billing";
import { backendItemStates, backendSubscription } from "./billingEvents";

/**
 * Clerk's Backend API, used only from actions (it needs `fetch`). `CLERK_API_URL` points
 * it at the local identity provider offline; unset, it is Clerk's own https://api.clerk.com.
 */
function clerk() {
  const secretKey = env.CLERK_SECRET_KEY;
  if (!secretKey) fail("UPSTREAM_ERROR", "CLERK_SECRET_KEY is not set on this deployment");
  return createClerkClient({ secretKey, apiUrl: env.CLERK_API_URL || undefined });
}

/** Clerk's errors as ours: 404 is NOT_FOUND, any other failure UPSTREAM_ERROR (nothing changed here). */
function upstreamFailure(error: unknown): never {
  if (isClerkAPIResponseError(error) && error.status === 404) fail("NOT_FOUND", "No such user in Clerk");
  if (isClerkAPIResponseError(error) && typeof error.status === "number") {
    fail("UPSTREAM_ERROR", `Clerk refused the request (HTTP ${error.status})`, { status: error.status });
  }
  // The SDK also reports an answer it could not read as a Clerk API error, without a status.
  if (isClerkAPIResponseError(error))
    fail("UPSTREAM_ERROR", "Clerk's answer could not be read; nothing was changed");
  if (error instanceof Error && "data" in error) throw error; // our own ConvexError
  fail("UPSTREAM_ERROR", "Clerk could not be reached; nothing was changed");
}

/**
 * Merges `patch` into the user's public metadata (`null` removes a key). Clerk then sends user.updated, and the
 * webhook, not this call, changes the users row: Clerk stays the single writer of privileges.
 */
export async function updatePublicMetadata(
  clerkId: string,
  patch: Record<string, string | null>,
): Promise<void> {
  try {
    await clerk().users.updateUserMetadata(clerkId, { publicMetadata: patch });
  } catch (error) {
    upstreamFailure(error);
  }
}

/** Clerk's page size limit for GET /v1/users. */
export const CLERK_USER_PAGE = 500;

/**
 * One page of Clerk's users as Clerk's JSON (the shape webhooks carry), oldest first: users
 * created while paging append at the end instead of shifting the pages already read.
 */
export async function clerkUserPage(offset: number): Promise<unknown[]> {
  try {
    const { data } = await clerk().users.getUserList({
      limit: CLERK_USER_PAGE,
      offset,
      orderBy: "+created_at",
    });
    return data.map((user) => user.raw);
  } catch (error) {
    upstreamFailure(error);
  }
}

/** Whether Clerk still has this user (asked one by one before anything is deleted). */
export async function clerkUserExists(clerkId: string): Promise<boolean> {
  try {
    await clerk().users.getUser(clerkId);
    return true;
  } catch (error) {
    if (isClerkAPIResponseError(error) && error.status === 404) return false;
    upstreamFailure(error);
  }
}

/**
 * What Clerk Billing says of a user's subscription now:
 * - its items;
 * - `"none"`: Clerk has no subscription for them (404);
 * - `"unavailable"`: Clerk refuses the question itself (another 4xx: Billing is not enabled on
 *   the instance), so a run can stop asking;
 * - `"unreadable"`: the answer is not a subscription (that user is skipped, as a user that does
 *   not parse is);
 * - `{ retryAfterMs }`: Clerk's rate limit (429), with its Retry-After when it sent one.
 * Clerk being unreachable is an upstream failure.
 */
export async function clerkSubscriptionItems(
  clerkId: string,
): Promise<ItemState[] | "none" | "unavailable" | "unreadable" | { retryAfterMs: number | undefined }> {
  let subscription: unknown;
  try {
    subscription = await clerk().billing.getUserBillingSubscription(clerkId);
  } catch (error) {
    if (isClerkAPIResponseError(error) && error.status === 429) {
      return { retryAfterMs: typeof error.retryAfter === "number" ? error.retryAfter * 1000 : undefined };
    }
    if (isClerkAPIResponseError(error) && error.status === 404) return "none";
    if (isClerkAPIResponseError(error) && error.status >= 400 && error.status < 500) return "unavailable";
    upstreamFailure(error);
  }
  const parsed = backendSubscription.safeParse(subscription);
  return parsed.success ? backendItemStates(parsed.data) : "unreadable";
}
