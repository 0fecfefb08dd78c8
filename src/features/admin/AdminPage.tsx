import { useAction, usePaginatedQuery } from "convex/react";
import { useCallback, useEffect, useMemo, useState } from "react";
import { api } from "../../../convex/_generated/api";
import { canSetRole, PLANS, ROLES, type Plan, type Role } from "../../../convex/lib/permissions";
import { useViewer } from "../../auth/useViewer";
import { Skeleton } from "../../components/Skeleton";
import { useToast } from "../../components/toast/toastContext";
import { usePageTitle } from "../../components/usePageTitle";
import { errorMessage } from "../../lib/errors";
import { PLAN_LABEL, ROLE_LABEL } from "../../lib/plans";
import { describeEntry, subscriptionsPart, type AuditEntry } from "./auditText";
import { ConfirmDialog } from "./ConfirmDialog";
import { useFillPages } from "./useFillPages";
import "./admin.css";

/** A change that has not answered after this long is reported as failed (the control goes back). */
export const CHANGE_TIMEOUT_MS = 20_000;
const USERS_PAGE = 50;
const AUDIT_PAGE = 50;

type AdminUser = {
  clerkId: string;
  email: string;
  name: string;
  role: Role;
  plan: Plan;
  /** An administrator's plan, which wins over the subscription until lifted (ADR 009). */
  planOverride?: Plan;
  synced: boolean;
  deletedAt?: number;
};
/** The plan control's value for "no override: the subscription decides". */
const BY_SUBSCRIPTION = "subscription";
type Pending = { clerkId: string; field: "role" | "plan"; value: string };
type RoleChange = { user: AdminUser; role: Role };
type AuditKind = "role" | "plan" | "sync" | "account";
type Choice<T extends string> = readonly [value: T | "", text: string];
const AUDIT_KINDS: readonly Choice<AuditKind>[] = [
  ["", "All changes"],
  ["role", "Roles"],
  ["plan", "Plans"],
  ["sync", "Syncs with Clerk"],
  ["account", "Accounts"],
];

/** A list filter: a labelled select whose first choice (the value "") means no filter. */
function FilterSelect<T extends string>({
  label,
  value,
  onChange,
  options,
}: {
  label: string;
  value: T | "";
  onChange: (value: T | "") => void;
  options: readonly Choice<T>[];
}) {
  return (
    <label>
      {label}
      <select value={value} onChange={(e) => onChange(e.target.value as T | "")}>
        {options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    </label>
  );
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(new Error(`No answer after ${Math.round(ms / 1000)} s; the change may not have happened.`)),
      ms,
    );
    promise.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e: unknown) => (clearTimeout(timer), reject(e)),
    );
  });
}

function failureText(error: unknown) {
  return error instanceof Error && error.message.startsWith("No answer")
    ? error.message
    : errorMessage(error);
}

function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}

/** Admins manage roles and plans; changes go to Clerk and come back through its webhook. */
export default function AdminPage() {
  usePageTitle("Administration");
  const viewer = useViewer();
  const toast = useToast();
  const [searchText, setSearchText] = useState("");
  const [roleFilter, setRoleFilter] = useState<Role | "">("");
  const [planFilter, setPlanFilter] = useState<Plan | "">("");
  const search = useDebounced(searchText.trim(), 250);
  const users = usePaginatedQuery(
    api.admin.listUsers,
    {
      ...(search ? { search } : {}),
      ...(roleFilter ? { role: roleFilter } : {}),
      ...(planFilter ? { plan: planFilter } : {}),
    },
    { initialNumItems: USERS_PAGE },
  );
  // Names for the audit log: the newest users whatever the filters.
  const directory = usePaginatedQuery(api.admin.listUsers, {}, { initialNumItems: 100 });
  const [kind, setKind] = useState<AuditKind | "">("");
  const [person, setPerson] = useState("");
  const audit = usePaginatedQuery(
    api.admin.auditLog,
    { fold: true, ...(kind ? { kind } : {}), ...(person ? { person } : {}) },
    { initialNumItems: AUDIT_PAGE },
  );
  const setRole = useAction(api.admin.setRole);
  const setPlan = useAction(api.admin.setPlan);
  const reconcile = useAction(api.admin.reconcileUsers);
  const [pending, setPending] = useState<Pending | null>(null);
  // Accepted by Clerk, not yet back through its webhook: shown until the synced row agrees.
  const [applied, setApplied] = useState<Pending | null>(null);
  const [confirming, setConfirming] = useState<RoleChange | null>(null);
  const [syncing, setSyncing] = useState(false);
  const [syncSummary, setSyncSummary] = useState<string | null>(null);

  // A search, or an audit filter, reads page by page: keep asking until enough matches or the end.
  // (Role and plan read through an index: their pages are full.)
  const filtered = search !== "";
  useFillPages(users, {
    active: filtered,
    filterKey: JSON.stringify([search, roleFilter, planFilter]),
    pageSize: USERS_PAGE,
  });
  const auditFiltered = kind !== "" || person !== "";
  useFillPages(audit, {
    active: auditFiltered,
    filterKey: JSON.stringify([kind, person]),
    pageSize: AUDIT_PAGE,
  });

  const known = useMemo(() => {
    const map = new Map<string, AdminUser>();
    for (const u of [...directory.results, ...users.results]) map.set(u.clerkId, u);
    return map;
  }, [directory.results, users.results]);
  const nameOf = useCallback(
    (clerkId: string) => {
      const u = known.get(clerkId);
      if (clerkId === viewer?.clerkId) return u?.name || u?.email || "You";
      return u ? u.name || u.email || "A deleted user" : clerkId;
    },
    [known, viewer?.clerkId],
  );
  useEffect(() => {
    if (!applied) return;
    const timer = setTimeout(() => setApplied(null), CHANGE_TIMEOUT_MS);
    return () => clearTimeout(timer);
  }, [applied]);
  const cancelConfirm = useCallback(() => setConfirming(null), []);

  if (viewer === undefined) return <Skeleton lines={6} label="Loading administration" />;
  if (!viewer) return null;

  const label = (u: AdminUser) => u.name || u.email;
  async function change(user: AdminUser, field: "role" | "plan", value: string) {
    setPending({ clerkId: user.clerkId, field, value });
    try {
      if (field === "plan") {
        const plan = value === BY_SUBSCRIPTION ? null : (value as Plan);
        await withTimeout(setPlan({ clerkId: user.clerkId, plan }), CHANGE_TIMEOUT_MS);
        // Lifting the override: the control shows the synced row's plan once Clerk's webhook lands.
        if (plan !== null) setApplied({ clerkId: user.clerkId, field, value });
        toast.show(
          plan === null
            ? `${label(user)}’s plan now follows their subscription.`
            : `${label(user)} is now on ${PLAN_LABEL[plan]}.`,
        );
      } else {
        await withTimeout(setRole({ clerkId: user.clerkId, role: value as Role }), CHANGE_TIMEOUT_MS);
        setApplied({ clerkId: user.clerkId, field, value });
        toast.show(
          value === "admin"
            ? `${label(user)} is now an ${ROLE_LABEL.admin}.`
            : `${label(user)} is no longer an ${ROLE_LABEL.admin}.`,
        );
      }
    } catch (error) {
      toast.show(`Could not change ${label(user)}’s ${field}: ${failureText(error)}`, "error");
    } finally {
      // The control shows the synced row again: the new value once Clerk's webhook lands, the old one on failure.
      setPending(null);
    }
  }

  async function sync() {
    setSyncing(true);
    try {
      const s = await withTimeout(reconcile({}), CHANGE_TIMEOUT_MS * 3);
      const text = `Compared ${s.clerkUsers} Clerk users: ${s.created} added, ${s.updated} updated, ${s.deleted} removed${subscriptionsPart(s)}.`;
      setSyncSummary(text);
      toast.show("Users are in sync with Clerk.");
    } catch (error) {
      toast.show(`Could not sync with Clerk: ${failureText(error)}`, "error");
    } finally {
      setSyncing(false);
    }
  }

  const shown = (u: AdminUser, field: "role" | "plan") => {
    for (const p of [pending, applied]) if (p?.clerkId === u.clerkId && p.field === field) return p.value;
    return u[field];
  };
  const people = [...known.values()].filter((u) => u.deletedAt === undefined);

  return (
    <div className="stack admin-page">
      <h1>Administration</h1>
      <section aria-labelledby="users-heading" className="admin-section">
        <div className="row admin-heading">
          <h2 id="users-heading">Users</h2>
          {/* Webhooks can be late or lost; this compares with Clerk now (a daily job does too). */}
          <button type="button" disabled={syncing} aria-busy={syncing} onClick={() => void sync()}>
            {syncing ? "Syncing…" : "Sync with Clerk"}
          </button>
        </div>
        {syncSummary && (
          <p className="muted" aria-live="polite">
            {syncSummary}
          </p>
        )}
        <div className="admin-filters" role="search" aria-label="Find users">
          <label>
            Search
            <input
              type="search"
              placeholder="Name or email"
              maxLength={100}
              value={searchText}
              onChange={(e) => setSearchText(e.target.value)}
            />
          </label>
          <FilterSelect
            label="Role"
            value={roleFilter}
            onChange={setRoleFilter}
            options={[["", "Any role"], ...ROLES.map((r) => [r, ROLE_LABEL[r]] as const)]}
          />
          <FilterSelect
            label="Plan"
            value={planFilter}
            onChange={setPlanFilter}
            options={[["", "Any plan"], ...PLANS.map((p) => [p, PLAN_LABEL[p]] as const)]}
          />
        </div>
        {users.status === "LoadingFirstPage" ? (
          <Skeleton lines={5} label="Loading users" />
        ) : (
          <>
            <table className="admin-users">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Email</th>
                  <th scope="col">Role</th>
                  <th scope="col">Plan</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {users.results.map((u) => {
                  const busy = pending?.clerkId === u.clerkId;
                  const locked = pending !== null || u.deletedAt !== undefined;
                  return (
                    <tr key={u.clerkId} className={u.deletedAt ? "deleted" : undefined} aria-busy={busy}>
                      <td data-label="Name">{u.name || "—"}</td>
                      <td data-label="Email" className="admin-email">
                        {u.email || "—"}
                      </td>
                      <td data-label="Role">
                        <select
                          aria-label={`Role of ${u.email || u.clerkId}`}
                          value={shown(u, "role")}
                          disabled={locked}
                          onChange={(e) => setConfirming({ user: u, role: e.target.value as Role })}
                        >
                          {/* The server refuses self-demotion too; this only avoids offering it. */}
                          <option
                            value="user"
                            disabled={!canSetRole(viewer.clerkId, viewer, u.clerkId, "user")}
                          >
                            {ROLE_LABEL.user}
                          </option>
                          <option value="admin">{ROLE_LABEL.admin}</option>
                        </select>
                      </td>
                      <td data-label="Plan">
                        <select
                          aria-label={`Plan of ${u.email || u.clerkId}`}
                          value={shown(u, "plan")}
                          disabled={locked}
                          onChange={(e) => void change(u, "plan", e.target.value)}
                        >
                          <option value="free_user">{PLAN_LABEL.free_user}</option>
                          <option value="pro">{PLAN_LABEL.pro}</option>
                          {/* Offered only while an administrator's plan overrides the subscription. */}
                          {u.planOverride !== undefined && (
                            <option value={BY_SUBSCRIPTION}>By subscription</option>
                          )}
                        </select>
                        {u.planOverride !== undefined && (
                          <span className="muted small admin-granted"> granted</span>
                        )}
                      </td>
                      <td data-label="Status">
                        {busy
                          ? "Saving…"
                          : u.deletedAt
                            ? "Deleted"
                            : u.synced
                              ? "Synced"
                              : "Waiting for Clerk"}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
            {users.results.length === 0 && users.status !== "LoadingMore" && (
              <p className="muted">
                {users.status === "Exhausted" ? "No users match." : "No matches among the users read so far."}
              </p>
            )}
            {users.status === "LoadingMore" && <Skeleton lines={2} label="Loading more users" />}
            {users.status === "CanLoadMore" && (
              <button type="button" className="secondary" onClick={() => users.loadMore(USERS_PAGE)}>
                {filtered ? "Search further" : "Show more users"}
              </button>
            )}
          </>
        )}
      </section>

      <section aria-labelledby="audit-heading" className="admin-section">
        <h2 id="audit-heading">Audit log</h2>
        <div className="admin-filters" aria-label="Filter the audit log" role="group">
          <FilterSelect label="Kind" value={kind} onChange={setKind} options={AUDIT_KINDS} />
          <FilterSelect
            label="Person"
            value={person}
            onChange={setPerson}
            options={[
              ["", "Anyone"],
              ...people.map((u) => [u.clerkId, u.name ? `${u.name} (${u.email})` : u.email] as const),
            ]}
          />
        </div>
        {audit.status === "LoadingFirstPage" ? (
          <Skeleton lines={4} label="Loading the audit log" />
        ) : (
          <>
            <ul className="audit-list">
              {(audit.results as AuditEntry[]).map((entry) => (
                <AuditLine key={entry._id} entry={entry} nameOf={nameOf} />
              ))}
            </ul>
            {audit.results.length === 0 && audit.status !== "LoadingMore" && (
              <p className="muted" role="status">
                {!auditFiltered
                  ? "No entries yet."
                  : audit.status === "Exhausted"
                    ? "No matching entries."
                    : "No matching entries so far; older entries are not searched yet."}
              </p>
            )}
            {audit.status === "LoadingMore" && (
              <Skeleton
                lines={2}
                label={auditFiltered ? "Searching older entries" : "Loading older entries"}
              />
            )}
            {audit.status === "CanLoadMore" && (
              <button type="button" className="secondary" onClick={() => audit.loadMore(AUDIT_PAGE)}>
                {auditFiltered ? "Search older entries" : "Older entries"}
              </button>
            )}
          </>
        )}
      </section>

      {confirming && (
        <ConfirmDialog
          title={confirming.role === "admin" ? "Grant administrator access?" : "Remove administrator access?"}
          message={
            confirming.role === "admin"
              ? `${label(confirming.user)} (${confirming.user.email}) will be able to change every user’s role and plan.`
              : `${label(confirming.user)} (${confirming.user.email}) will no longer be able to use this page.`
          }
          confirmLabel={confirming.role === "admin" ? "Make administrator" : "Remove administrator"}
          onCancel={cancelConfirm}
          onConfirm={() => {
            const { user, role } = confirming;
            setConfirming(null);
            void change(user, "role", role);
          }}
        />
      )}
    </div>
  );
}

export function AuditLine({ entry, nameOf }: { entry: AuditEntry; nameOf: (clerkId: string) => string }) {
  const when = new Date(entry._creationTime);
  return (
    <li className="audit-line">
      <div>
        <span className="audit-text">{describeEntry(entry, nameOf)}</span>
        {entry.echo && <span className="audit-confirmed"> · confirmed by Clerk</span>}
      </div>
      <time className="muted" dateTime={when.toISOString()}>
        {when.toLocaleString()}
      </time>
      <details>
        <summary>Details</summary>
        <dl>
          <Detail term="Action" value={entry.action} />
          <Detail term="Actor" value={entry.actor} />
          {entry.target && <Detail term="Target" value={entry.target} />}
          <Detail term="Entry" value={entry._id} />
          {entry.details && <Detail term="Recorded" value={JSON.stringify(entry.details)} />}
          {entry.echo && (
            <>
              <dt>Clerk webhook</dt>
              <dd>
                <code>{entry.echo.svixId ?? entry.echo._id}</code> at{" "}
                {new Date(entry.echo._creationTime).toLocaleString()}
              </dd>
            </>
          )}
        </dl>
      </details>
    </li>
  );
}

/** One row of an audit entry's details: a name and the stored value, as code. */
function Detail({ term, value }: { term: string; value: string }) {
  return (
    <>
      <dt>{term}</dt>
      <dd>
        <code>{value}</code>
      </dd>
    </>
  );
}
