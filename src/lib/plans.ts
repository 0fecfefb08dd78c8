import type { Plan, Role } from "../../convex/lib/permissions";

/** What people read; the stored names (`free_user`) stay internal. */
export const PLAN_LABEL: Record<Plan, string> = { free_user: "Free", pro: "Pro" };
export const ROLE_LABEL: Record<Role, string> = { user: "Member", admin: "Administrator" };
