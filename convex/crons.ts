import { cronJobs } from "convex/server";
import { internal } from "./_generated/api";

const crons = cronJobs();

// Dedupe records only need to outlive svix's retry horizon (~28 h); see WEBHOOK_DEDUPE_RETENTION_MS.
crons.daily(
  "purge old webhook dedupe records",
  { hourUTC: 4, minuteUTC: 17 },
  internal.clerkWebhooks.purgeOldWebhookEvents,
);

// Webhooks can be late or lost (Clerk says so): compare with Clerk's user list once a day.
crons.daily("reconcile users with Clerk", { hourUTC: 3, minuteUTC: 41 }, internal.reconcile.daily, {});

export default crons;
