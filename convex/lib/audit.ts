/**
 * The audit log as people read it: an admin's change and Clerk's webhook echo of the same change
 * are one entry, and entries can be narrowed by kind (role, plan, sync, account) and by person.
 *
 * Both halves are recorded at their source with the value before and after: `admin.setPlan` /
 * `admin.setRole` as `{ plan | role: to, from }` (convex/admin.ts), `clerk.user.updated` as
 * `{ svixId, plan?, planFrom?, role?, roleFrom?, profile? }` (convex/clerkWebhooks.ts). An echo is
 * the webhook entry for the same person, carrying the same new value, within `ECHO_WINDOW_MS` of
 * the admin entry (either may land first: the webhook can beat the action's own audit write).
 */
import type { Doc } from "../_generated/dataModel";
import type { QueryCtx } from "../_generated/server";

export type AuditDoc = Doc<"auditLog">;
export type AuditKind = "role" | "plan" | "sync" | "account";
type Field = "role" | "plan";

export const ECHO_WINDOW_MS = 5 * 60 * 1000;
/** Lookups of a partner outside the page read at most this many entries of one person. */
const PARTNER_LOOKUP = 20;

const ADMIN_FIELD: Record<string, Field> = { "admin.setRole": "role", "admin.setPlan": "plan" };

/** The role/plan fields a webhook entry says changed (none for entries recorded before this). */
function echoFields(entry: AuditDoc): Field[] {
  if (entry.action !== "clerk.user.updated") return [];
  const d = entry.details ?? {};
  return (["role", "plan"] as const).filter((f) => typeof d[`${f}From`] === "string");
}

export function kindOf(entry: AuditDoc): AuditKind[] {
  const field = ADMIN_FIELD[entry.action];
  if (field) return [field];
  if (entry.action === "users.reconcile" || entry.action.startsWith("reconcile.")) return ["sync"];
  if (entry.action === "clerk.user.updated") {
    const fields: AuditKind[] = echoFields(entry);
    return fields.length > 0 && entry.details?.["profile"] !== true ? fields : [...fields, "account"];
  }
  return ["account"];
}

/** Is `echo` Clerk's webhook echo of the admin change `admin` (for the field the admin changed)? */
export function isEchoOf(echo: AuditDoc, admin: AuditDoc): boolean {
  const field = ADMIN_FIELD[admin.action];
  return (
    field !== undefined &&
    echo.target !== undefined &&
    echo.target === admin.target &&
    echoFields(echo).includes(field) &&
    echo.details?.[field] === admin.details?.[field] &&
    Math.abs(echo._creationTime - admin._creationTime) <= ECHO_WINDOW_MS
  );
}

/** A webhook entry whose every change is an admin's change, and nothing else: shown folded. */
function foldsInto(echo: AuditDoc, candidates: AuditDoc[]): boolean {
  const fields = echoFields(echo);
  if (fields.length === 0 || echo.details?.["profile"] === true) return false;
  return fields.every((f) => candidates.some((a) => ADMIN_FIELD[a.action] === f && isEchoOf(echo, a)));
}

async function around(ctx: QueryCtx, entry: AuditDoc): Promise<AuditDoc[]> {
  if (entry.target === undefined) return [];
  const target = entry.target;
  return await ctx.db
    .query("auditLog")
    .withIndex("by_target", (q) =>
      q
        .eq("target", target)
        .gte("_creationTime", entry._creationTime - ECHO_WINDOW_MS)
        .lte("_creationTime", entry._creationTime + ECHO_WINDOW_MS),
    )
    .take(PARTNER_LOOKUP);
}

export type ReadableEntry = AuditDoc & {
  kinds: AuditKind[];
  /** Clerk's webhook echo of this admin change, folded into it. */
  echo?: { _id: AuditDoc["_id"]; _creationTime: number; svixId: string | null };
};

/**
 * One page of raw entries → the entries people read: echoes folded into their admin change,
 * then the filters. A partner outside the page is looked up by person and time (bounded).
 */
export async function readableEntries(
  ctx: QueryCtx,
  page: AuditDoc[],
  filter: { kind?: AuditKind; person?: string },
): Promise<ReadableEntry[]> {
  const out: ReadableEntry[] = [];
  for (const entry of page) {
    const local = page.filter((e) => e.target === entry.target);
    if (entry.action === "clerk.user.updated" && echoFields(entry).length > 0) {
      const inPage = foldsInto(entry, local);
      if (inPage || foldsInto(entry, await around(ctx, entry))) continue;
    }
    const readable: ReadableEntry = { ...entry, kinds: kindOf(entry) };
    if (ADMIN_FIELD[entry.action]) {
      const echo =
        local.find((e) => isEchoOf(e, entry)) ?? (await around(ctx, entry)).find((e) => isEchoOf(e, entry));
      if (echo) {
        const svixId = echo.details?.["svixId"];
        readable.echo = {
          _id: echo._id,
          _creationTime: echo._creationTime,
          svixId: typeof svixId === "string" ? svixId : null,
        };
      }
    }
    if (filter.kind && !readable.kinds.includes(filter.kind)) continue;
    if (filter.person && entry.actor !== filter.person && entry.target !== filter.person) continue;
    out.push(readable);
  }
  return out;
}
