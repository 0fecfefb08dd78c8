import { v, type Infer } from "convex/values";
import { z } from "zod";
import { fail } from "./errors";
import { BODY_MAX, countCodePoints, normalizeTitle, TITLE_MAX } from "./postText";

export const role = v.union(v.literal("user"), v.literal("admin"));
export const plan = v.union(v.literal("free_user"), v.literal("pro"));
export const visibility = v.union(v.literal("private"), v.literal("public"));

/** What a post looks like to callers: never more than the API contract lists. */
export const postValidator = v.object({
  _id: v.id("posts"),
  _creationTime: v.number(),
  authorId: v.string(),
  title: v.string(),
  body: v.string(),
  visibility,
  publishAt: v.optional(v.number()),
  updatedAt: v.number(),
});
export type PostView = Infer<typeof postValidator>;

/** A user's profile and privileges: the users table's own fields (schema.ts) and what callers see. */
export const userFields = {
  clerkId: v.string(),
  email: v.string(),
  name: v.string(),
  imageUrl: v.string(),
  role,
  plan,
};

export const viewerValidator = v.object({ ...userFields, synced: v.boolean() });

/** One subscription item's state as Gatehouse keeps it (lib/billing.ts `ItemState`; schema.ts). */
export const itemStateFields = {
  itemId: v.string(),
  planSlug: v.string(),
  status: v.string(),
  periodEnd: v.union(v.number(), v.null()),
  canceledAt: v.union(v.number(), v.null()),
  pastDueAt: v.union(v.number(), v.null()),
  asOf: v.number(),
};

export const adminUserValidator = v.object({
  ...viewerValidator.fields,
  planOverride: v.optional(plan),
  deletedAt: v.optional(v.number()),
});

export function pageOf<T extends Parameters<typeof v.array>[0]>(item: T) {
  return v.object({
    page: v.array(item),
    isDone: v.boolean(),
    continueCursor: v.string(),
    splitCursor: v.optional(v.union(v.string(), v.null())),
    pageStatus: v.optional(v.union(v.literal("SplitRecommended"), v.literal("SplitRequired"), v.null())),
  });
}

// Rules beyond Convex's type validators. Convex rejects wrong types and extra fields;
// these reject values of the right type that the product does not accept.

/**
 * Whether `s` has at most `max` code points, in time bounded by `max` rather than by `s`:
 * a code point is one or two UTF-16 units, so the length alone decides most strings, and
 * the count stops at the first code point past the limit. (Spreading the string into an
 * array first cost a free user's three 60 MB titles seconds of everyone's time.)
 */
export function hasAtMostCodePoints(s: string, max: number): boolean {
  if (s.length <= max) return true;
  if (s.length > 2 * max) return false;
  return countCodePoints(s, max + 1) <= max;
}

/**
 * A title is measured after trimming, so the raw input may carry some padding; but anything
 * longer than four UTF-16 units per allowed character is refused in O(1), before the trim
 * and the invisible-character scan touch it.
 */
const TITLE_RAW_UNITS_MAX = 4 * TITLE_MAX;
const titleTooLong = `Title must be at most ${TITLE_MAX} characters`;

const title = z
  .string()
  .refine((s) => s.length <= TITLE_RAW_UNITS_MAX, { message: titleTooLong, abort: true })
  .transform(normalizeTitle)
  .refine((s) => s.length > 0, "Title must not be blank")
  .refine((s) => hasAtMostCodePoints(s, TITLE_MAX), titleTooLong);
const body = z
  .string()
  .refine((s) => hasAtMostCodePoints(s, BODY_MAX), `Body must be at most ${BODY_MAX} characters`);

export const postInput = z.object({ title: title.optional(), body: body.optional() });

/** Scheduling further ahead than this is almost certainly a unit mistake (seconds vs ms). */
const MAX_SCHEDULE_AHEAD_MS = 366 * 24 * 60 * 60 * 1000;

export const publishAtInput = z
  .number()
  .int("publishAt must be a whole number of milliseconds")
  .refine((t) => t > Date.now(), "publishAt must be in the future")
  .refine((t) => t <= Date.now() + MAX_SCHEDULE_AHEAD_MS, "publishAt must be within a year");

/** Parses with zod and turns failures into INVALID_INPUT with the issues as details. */
export function parseInput<T>(schema: z.ZodType<T, unknown>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issues = result.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
    fail("INVALID_INPUT", issues.map((i) => i.message).join("; "), { issues });
  }
  return result.data;
}
