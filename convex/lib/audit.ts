/**
 * The audit log as people read it: an admin's change and Clerk's webhook echo of the same change
 * are one entry, and entries can be narrowed by kind (role, plan, sync, account) and by person.
 *
 * Both halves are recorded at their source with the value before and after: `admin.setPlan` /
 * `admin.setRole` as `{ plan | role: to, from }` (convex/admin.ts), `clerk.user.updated` as
 * `{ svixId, plan?, planFrom?, role?, roleFrom?, profile? }` (convex/clerkWebhooks.ts).
 *
 * They are paired when the second of the two is recorded, in that mutation (Convex runs mutations
 * serializably, so a pairing cannot be made twice): an admin entry takes the earliest unpaired
 * webhook entry of the same person that changed the same field to the same value within
 * `ECHO_WINDOW_MS` of it, and a webhook entry takes, for each field it changed, the earliest
 * unpaired such admin entry (either may land first: the webhook can beat the action's own audit
 * write). The link is stored on both: `echoedBy` on the admin entry, `echoOf[field]` on the
 * webhook entry. Reading folds by the stored links only; entries recorded before links existed
 * have none and read as unpaired.
 */
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import type { WithoutSystemFields } from "convex/server";
import { consumeWriteToken } from "./rateLimit";

export type AuditDoc = Doc<"auditLog">;
export type AuditKind = "role" | "plan" | "sync" | "account";
type Field = "role" | "plan";

export const ECHO_WINDOW_MS = 5 * 60 * 1000;

const WEBHOOK_ACTION = "clerk.user.updated";
const ADMIN_ACTION: Record<Field, string> = { role: "admin.setRole", plan: "admin.setPlan" };
const ADMIN_FIELD: Record<string, Field> = { "admin.setRole": "role", "admin.setPlan": "plan" };

/** The role/plan fields a webhook entry says changed (none for entries recorded before this). */
function echoFields(entry: AuditDoc): Field[] {
  if (entry.action !== WEBHOOK_ACTION) return [];
  const d = entry.details ?? {};
  return (["role", "plan"] as const).filter((f) => typeof d[`${f}From`] === "string");
}

export function kindOf(entry: AuditDoc): AuditKind[] {
  const field = ADMIN_FIELD[entry.action];
  if (field) return [field];
  if (entry.action === "users.reconcile" || entry.action.startsWith("reconcile.")) return ["sync"];
  // Clerk Billing's subscription events and a canceled period running out (convex/billing.ts).
  if (entry.action.startsWith("clerk.subscription") || entry.action.startsWith("billing.")) return ["plan"];
  if (entry.action === WEBHOOK_ACTION) {
    const fields: AuditKind[] = echoFields(entry);
    return fields.length > 0 && entry.details?.["profile"] !== true ? fields : [...fields, "account"];
  }
  return ["account"];
}

/**
 * The earliest entry of `target` by `action` within the window around `at` that `fits` (later
 * ones can only be of a concurrent mutation that committed first). Reads that person's entries of
 * that action in the window, all of them: no bound that could skip the partner on a busy person.
 */
async function earliest(
  ctx: MutationCtx,
  target: string,
  action: string,
  at: number,
  fits: (entry: AuditDoc) => boolean,
): Promise<AuditDoc | null> {
  const candidates = ctx.db.query("auditLog").withIndex("by_target_action", (q) =>
    q
      .eq("target", target)
      .eq("action", action)
      .gte("_creationTime", at - ECHO_WINDOW_MS)
      .lte("_creationTime", at + ECHO_WINDOW_MS),
  );
  for await (const entry of candidates) if (fits(entry)) return entry;
  return null;
}

/** Pairs a just-recorded entry with its partner(s), if it is an admin change or a webhook echo. */
async function pair(ctx: MutationCtx, entry: AuditDoc) {
  const target = entry.target;
  if (target === undefined) return;
  const field = ADMIN_FIELD[entry.action];
  if (field !== undefined) {
    const value = entry.details?.[field];
    const echo = await earliest(
      ctx,
      target,
      WEBHOOK_ACTION,
      entry._creationTime,
      (e) => echoFields(e).includes(field) && e.details?.[field] === value && e.echoOf?.[field] === undefined,
    );
    if (echo === null) return;
    await ctx.db.patch("auditLog", entry._id, { echoedBy: echo._id });
    await ctx.db.patch("auditLog", echo._id, { echoOf: { ...echo.echoOf, [field]: entry._id } });
    return;
  }
  const echoOf: NonNullable<AuditDoc["echoOf"]> = {};
  for (const f of echoFields(entry)) {
    const value = entry.details?.[f];
    const admin = await earliest(
      ctx,
      target,
      ADMIN_ACTION[f],
      entry._creationTime,
      (a) => a.details?.[f] === value && a.echoedBy === undefined,
    );
    if (admin === null) continue;
    await ctx.db.patch("auditLog", admin._id, { echoedBy: entry._id });
    echoOf[f] = admin._id;
  }
  if (Object.keys(echoOf).length > 0) await ctx.db.patch("auditLog", entry._id, { echoOf });
}

export type AuditRecord = Omit<WithoutSystemFields<AuditDoc>, "echoedBy" | "echoOf">;

/**
 * Appends an audit entry; an admin role/plan change or Clerk's echo of one is paired with its
 * partner here, in the recording mutation.
 */
export async function recordAudit(ctx: MutationCtx, record: AuditRecord): Promise<Id<"auditLog">> {
  const id = await ctx.db.insert("auditLog", record);
  const entry = await ctx.db.get("auditLog", id);
  if (entry !== null) await pair(ctx, entry);
  return id;
}

/** A webhook entry whose every change is paired with an admin's change, and nothing else: folded. */
function folded(entry: AuditDoc): boolean {
  const fields = echoFields(entry);
  if (fields.length === 0 || entry.details?.["profile"] === true) return false;
  return fields.every((f) => entry.echoOf?.[f] !== undefined);
}

export type ReadableEntry = AuditDoc & {
  kinds: AuditKind[];
  /** Clerk's webhook echo of this admin change, folded into it. */
  echo?: { _id: AuditDoc["_id"]; _creationTime: number; svixId: string | null };
};

/**
 * One page of raw entries → the entries people read, narrowed by `kind` and `person` (a Clerk id,
 * as actor or target). Each carries its kinds. With `fold`, a webhook entry whose every change is
 * paired with an admin's change is left out and shown as that change's `echo` (one read per
 * paired admin entry on the page); without it, every entry is listed as recorded.
 */
export async function readableEntries(
  ctx: QueryCtx,
  page: AuditDoc[],
  { fold, kind, person }: { fold: boolean; kind?: AuditKind; person?: string },
): Promise<ReadableEntry[]> {
  const out: ReadableEntry[] = [];
  for (const entry of page) {
    if (fold && folded(entry)) continue;
    const readable: ReadableEntry = { ...entry, kinds: kindOf(entry) };
    if (kind !== undefined && !readable.kinds.includes(kind)) continue;
    if (person !== undefined && entry.actor !== person && entry.target !== person) continue;
    if (fold && entry.echoedBy !== undefined) {
      const echo = await ctx.db.get("auditLog", entry.echoedBy);
      if (echo) {
        const svixId = echo.details?.["svixId"];
        readable.echo = {
          _id: echo._id,
          _creationTime: echo._creationTime,
          svixId: typeof svixId === "string" ? svixId : null,
        };
      }
    }
    out.push(readable);
  }
  return out;
}

/**
 * After Clerk accepted the change: charge the admin's write token and append the audit entry (a
 * role/plan change is paired there with Clerk's echo of it if that landed first; lib/audit.ts).
 */
export async function recordAdminChange(ctx: MutationCtx, entry: AuditRecord) {
  await consumeWriteToken(ctx, entry.actor, { enforce: false });
  await recordAudit(ctx, entry);
}
