import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
import { itemStateFields, plan, userFields, visibility } from "./lib/validators";

export default defineSchema({
  /** One row per Clerk user, written from verified webhooks (or provisionally by users.ensure). */
  users: defineTable({
    ...userFields,
    /** Clerk's `updated_at` (ms) of the data this row holds; 0 for a provisional row. */
    clerkUpdatedAt: v.number(),
    /** false while the row holds only token claims (users.ensure before user.created arrived). */
    synced: v.boolean(),
    /** Tombstone: set by user.deleted; a tombstoned row is never revived. */
    deletedAt: v.optional(v.number()),
    /** An administrator's plan (`public_metadata.planOverride`): wins over the subscription (ADR 009). */
    planOverride: v.optional(plan),
    /**
     * `public_metadata.plan` as Clerk last reported it: Gatehouse's mirror of `plan` there, for the
     * session token's `metadata.plan`. When it differs from `plan`, the mirror is written again.
     */
    metadataPlan: v.optional(plan),
    /** When billing.recheckPlan is set to run for a canceled period's end: one job per end, not per event. */
    lapseCheckAt: v.optional(v.number()),
  })
    .index("by_clerkId", ["clerkId"])
    // Kept beside by_role_plan: admins by role alone are listed newest first (by _creationTime).
    // eslint-disable-next-line @convex-dev/no-duplicate-indexes
    .index("by_role", ["role"])
    /** The admin page's filters (admin.listUsers). */
    .index("by_plan", ["plan"])
    .index("by_role_plan", ["role", "plan"]),

  posts: defineTable({
    authorId: v.string(),
    title: v.string(),
    body: v.string(),
    visibility,
    publishAt: v.optional(v.number()),
    publishJobId: v.optional(v.id("_scheduled_functions")),
    updatedAt: v.number(),
  })
    .index("by_author", ["authorId"])
    .index("by_visibility", ["visibility"]),

  /** Per-author totals, maintained on every post write (lib/postStats.ts). */
  authorStats: defineTable({
    authorId: v.string(),
    total: v.number(),
    public: v.number(),
    words: v.number(),
  }).index("by_author", ["authorId"]),

  /** Posts per author per UTC day of creation. */
  authorDays: defineTable({
    authorId: v.string(),
    day: v.string(),
    count: v.number(),
  }).index("by_author_day", ["authorId", "day"]),

  /**
   * Clerk Billing's subscription items, one row per item with its latest state (lib/billing.ts):
   * the subscription side of a user's plan. Written only from verified billing webhooks and from
   * reconciliation, which reads Clerk's Backend API (lib/reconcile.ts).
   */
  subscriptionItems: defineTable({
    ...itemStateFields,
    clerkId: v.string(),
  })
    .index("by_itemId", ["itemId"])
    .index("by_clerkId", ["clerkId"]),

  /** svix-ids already applied: a redelivery of one of these is acknowledged and ignored. */
  webhookEvents: defineTable({
    svixId: v.string(),
    type: v.string(),
    clerkId: v.optional(v.string()),
    outcome: v.string(),
    receivedAt: v.number(),
  })
    .index("by_svixId", ["svixId"])
    .index("by_receivedAt", ["receivedAt"]),

  auditLog: defineTable({
    action: v.string(),
    /** clerkId of the admin, or "clerk" for webhook-driven entries. */
    actor: v.string(),
    target: v.optional(v.string()),
    details: v.optional(v.record(v.string(), v.union(v.string(), v.number(), v.boolean(), v.null()))),
    /**
     * On an admin's role/plan change: Clerk's webhook entry that echoes it. Set when the second of
     * the two is recorded (lib/audit.ts); absent on entries recorded before links existed.
     */
    echoedBy: v.optional(v.id("auditLog")),
    /** On a clerk.user.updated entry: per field it changed, the admin change it echoes. */
    echoOf: v.optional(v.object({ role: v.optional(v.id("auditLog")), plan: v.optional(v.id("auditLog")) })),
  })
    /** An admin change and Clerk's webhook echo of it find each other by person and action (lib/audit.ts). */
    .index("by_target_action", ["target", "action"]),

  /**
   * Demotions of admins that Clerk accepted (or is being asked to make) and whose webhook has
   * not landed yet. The last-admin rule counts them as done, so two admins demoting each other
   * within one webhook delivery cannot both succeed (lib/lastAdmin.ts).
   */
  pendingDemotions: defineTable({
    clerkId: v.string(),
    actor: v.string(),
    requestedAt: v.number(),
  }).index("by_clerkId", ["clerkId"]),

  /**
   * Write tokens claimed by admin actions still running (lib/rateLimit.ts): an action's effect
   * happens outside any transaction, so its token is claimed before and charged after.
   */
  writeClaims: defineTable({
    key: v.string(),
    claimedAt: v.number(),
  }).index("by_key", ["key"]),

  /** Token buckets for per-user write rate limiting. */
  rateLimits: defineTable({
    key: v.string(),
    tokens: v.number(),
    updatedAt: v.number(),
  }).index("by_key", ["key"]),
});
