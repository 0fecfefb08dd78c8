import type { Plan, Role } from "../../../convex/lib/permissions";
import { PLAN_LABEL, ROLE_LABEL } from "../../lib/plans";

export type AuditEntry = {
  _id: string;
  _creationTime: number;
  action: string;
  actor: string;
  target?: string;
  details?: Record<string, string | number | boolean | null>;
  echo?: { _id: string; _creationTime: number; svixId: string | null };
};

const planLabel = (v: unknown) => PLAN_LABEL[v as Plan] ?? String(v);
const roleLabel = (v: unknown) => ROLE_LABEL[v as Role] ?? String(v);
const possessive = (name: string) => (name.endsWith("s") ? `${name}’` : `${name}’s`);

/**
 * One audit entry as a sentence: "Ada Admin changed Frankie Free’s plan: Free → Pro".
 * `nameOf` turns a Clerk id into the person's name (or email) where the page knows it.
 */
export function describeEntry(entry: AuditEntry, nameOf: (clerkId: string) => string): string {
  const actor = entry.actor === "clerk" ? "Clerk" : nameOf(entry.actor);
  const target = entry.target ? nameOf(entry.target) : "someone";
  const d = entry.details ?? {};
  switch (entry.action) {
    case "admin.setPlan":
      if (d["override"] === "lifted")
        return `${actor} lifted the override on ${possessive(target)} plan, so the subscription decides: ${planLabel(d["from"])} → ${planLabel(d["plan"])}`;
      return d["from"] !== undefined
        ? `${actor} changed ${possessive(target)} plan: ${planLabel(d["from"])} → ${planLabel(d["plan"])}`
        : `${actor} set ${possessive(target)} plan to ${planLabel(d["plan"])}`;
    case "admin.setRole":
      return d["from"] !== undefined
        ? `${actor} changed ${possessive(target)} role: ${roleLabel(d["from"])} → ${roleLabel(d["role"])}`
        : `${actor} set ${possessive(target)} role to ${roleLabel(d["role"])}`;
    case "clerk.user.created":
      return `${target} signed up (synced from Clerk)`;
    case "clerk.user.deleted":
      return `${target}’s account was deleted (synced from Clerk)`;
    case "clerk.user.updated": {
      const parts: string[] = [];
      if (typeof d["planFrom"] === "string")
        parts.push(`plan: ${planLabel(d["planFrom"])} → ${planLabel(d["plan"])}`);
      if (typeof d["roleFrom"] === "string")
        parts.push(`role: ${roleLabel(d["roleFrom"])} → ${roleLabel(d["role"])}`);
      if (d["profile"] === true || parts.length === 0) parts.push("profile updated");
      return `Clerk updated ${possessive(target)} account: ${parts.join("; ")}`;
    }
    case "billing.periodEnded":
      return `${possessive(target)} canceled subscription ran out: ${planLabel(d["planFrom"])} → ${planLabel(d["plan"])}`;
    case "users.reconcile": {
      const n = (k: string) => Number(d[k] ?? 0);
      return `${actor} synced with Clerk: compared ${n("clerkUsers")} users, ${n("created")} added, ${n("updated")} updated, ${n("deleted")} removed${subscriptionsPart(d)}`;
    }
    case "reconcile.created":
      return `Sync with Clerk added ${target}`;
    case "reconcile.updated":
      return `Sync with Clerk updated ${target}`;
    case "reconcile.deleted":
      return `Sync with Clerk removed ${target}`;
    case "reconcile.billing":
      return describeBilling("Sync with Clerk Billing", target, d);
    default:
      if (entry.action.startsWith("clerk.subscription")) return describeBilling("Clerk Billing", target, d);
      return `${actor}: ${entry.action}${entry.target ? ` (${target})` : ""}`;
  }
}

const ITEM_STATUS: Record<string, string> = {
  active: "is active",
  canceled: "was canceled (kept until its period ends)",
  ended: "ended",
  past_due: "is past due",
  upcoming: "is scheduled",
  abandoned: "was dropped",
  incomplete: "awaits payment",
  expired: "expired",
};

/**
 * A subscription's change, from a Clerk Billing event or found by a sync: "Clerk Billing: Frankie’s
 * Pro subscription is active; plan: Free → Pro".
 */
function describeBilling(source: string, target: string, d: NonNullable<AuditEntry["details"]>): string {
  const item = typeof d["item"] === "string" ? `${planLabel(d["item"])} subscription` : "subscription";
  const status = typeof d["status"] === "string" ? (ITEM_STATUS[d["status"]] ?? d["status"]) : "changed";
  const plan =
    typeof d["planFrom"] === "string" ? `; plan: ${planLabel(d["planFrom"])} → ${planLabel(d["plan"])}` : "";
  return `${source}: ${possessive(target)} ${item} ${status}${plan}`;
}

/**
 * A sync's word on subscriptions: how many it repaired, and whether the rest are still being read
 * in the background, or that Clerk would not say (Billing is off) or did not answer. Summaries from
 * before subscriptions were synced say nothing of them.
 */
export function subscriptionsPart(summary: Record<string, unknown>): string {
  const n = summary["subscriptionsRepaired"];
  if (typeof n !== "number") return "";
  const repaired = `${n} ${n === 1 ? "subscription" : "subscriptions"} repaired`;
  switch (summary["billing"]) {
    case "off":
      return "; subscriptions not checked (Clerk Billing is off)";
    case "failed":
      return `; ${repaired}, then Clerk stopped answering (the next sync goes on)`;
    case "continuing":
      return `; ${repaired} so far, the rest are being checked in the background`;
    default:
      return `; ${repaired}`;
  }
}
