import { v, type Infer } from "convex/values";
import { z } from "zod";
import { BODY_MAX, TITLE_MAX } from "./permissions";
import { fail } from "./errors";

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

export const viewerValidator = v.object({
  clerkId: v.string(),
  email: v.string(),
  name: v.string(),
  imageUrl: v.string(),
  role,
  plan,
  synced: v.boolean(),
});

export const adminUserValidator = v.object({
  clerkId: v.string(),
  email: v.string(),
  name: v.string(),
  imageUrl: v.string(),
  role,
  plan,
  synced: v.boolean(),
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
/** Zero-width and other invisible format characters do not make a title non-blank. */
const INVISIBLE = /[\u200B-\u200D\u2060\uFEFF]/gu;
const title = z
  .string()
  .transform((s) => s.replace(INVISIBLE, "").trim())
  .refine((s) => s.length > 0, "Title must not be blank")
  .refine((s) => [...s].length <= TITLE_MAX, `Title must be at most ${TITLE_MAX} characters`);
const body = z
  .string()
  .refine((s) => [...s].length <= BODY_MAX, `Body must be at most ${BODY_MAX} characters`);

export const postInput = z.object({ title: title.optional(), body: body.optional() });

/** Parses with zod and turns failures into INVALID_INPUT with the issues as details. */
export function parseInput<T>(schema: z.ZodType<T, unknown>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issues = result.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
    fail("INVALID_INPUT", issues.map((i) => i.message).join("; "), { issues });
  }
  return result.data;
}
