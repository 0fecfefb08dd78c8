import { useAction, usePaginatedQuery } from "convex/react";
import { useState } from "react";
import { api } from "../../../convex/_generated/api";
import { canSetRole, type Plan, type Role } from "../../../convex/lib/permissions";
import { useViewer } from "../../auth/useViewer";
import { useServerCall } from "../../lib/useServerCall";
import { FormError } from "../../components/FormError";

/** Admins manage roles and plans; changes go to Clerk and come back through its webhook. */
export default function AdminPage() {
  const viewer = useViewer();
  const users = usePaginatedQuery(api.admin.listUsers, {}, { initialNumItems: 50 });
  const audit = usePaginatedQuery(api.admin.auditLog, {}, { initialNumItems: 20 });
  const setRole = useAction(api.admin.setRole);
  const setPlan = useAction(api.admin.setPlan);
  const reconcile = useAction(api.admin.reconcileUsers);
  const [reconciled, setReconciled] = useState<string | null>(null);
  const { run, error, pending } = useServerCall();
  if (!viewer) return null;
  // Audit entries store Clerk ids; show the email of users on the loaded page where we know it.
  const emails = new Map(users.results.map((u) => [u.clerkId, u.email]));
  const nameOf = (clerkId: string) => (clerkId === "clerk" ? "Clerk" : emails.get(clerkId) || clerkId);
  return (
    <div className="stack">
      <section aria-label="Users">
        <div className="row">
          <h2>Users</h2>
          {/* Webhooks can be late or lost; this compares with Clerk now (a daily job does too). */}
          <button
            type="button"
            disabled={pending}
            onClick={() =>
              void run(async () => {
                const s = await reconcile({});
                setReconciled(
                  `Compared ${s.clerkUsers} Clerk users: ${s.created} added, ${s.updated} updated, ${s.deleted} removed.`,
                );
              })
            }
          >
            Sync with Clerk
          </button>
        </div>
        {reconciled && (
          <p role="status" className="muted">
            {reconciled}
          </p>
        )}
        <FormError message={error} />
        {/* A wide table scrolls inside its box instead of widening the page on a phone. */}
        <div className="table-scroll">
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Email</th>
                <th>Role</th>
                <th>Plan</th>
                <th>Status</th>
              </tr>
            </thead>
            <tbody>
              {users.results.map((u) => (
                <tr key={u.clerkId} className={u.deletedAt ? "deleted" : undefined}>
                  <td>{u.name || "—"}</td>
                  <td>{u.email}</td>
                  <td>
                    <select
                      aria-label={`Role of ${u.email}`}
                      value={u.role}
                      disabled={pending || u.deletedAt !== undefined}
                      onChange={(e) =>
                        void run(() => setRole({ clerkId: u.clerkId, role: e.target.value as Role }))
                      }
                    >
                      {/* The server refuses self-demotion too; this only avoids offering it. */}
                      <option value="user" disabled={!canSetRole(viewer.clerkId, viewer, u.clerkId, "user")}>
                        user
                      </option>
                      <option value="admin">admin</option>
                    </select>
                  </td>
                  <td>
                    <select
                      aria-label={`Plan of ${u.email}`}
                      value={u.plan}
                      disabled={pending || u.deletedAt !== undefined}
                      onChange={(e) =>
                        void run(() => setPlan({ clerkId: u.clerkId, plan: e.target.value as Plan }))
                      }
                    >
                      <option value="free_user">free_user</option>
                      <option value="pro">pro</option>
                    </select>
                  </td>
                  <td>{u.deletedAt ? "deleted" : u.synced ? "synced" : "pending sync"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <section aria-label="Audit log">
        <h2>Audit log</h2>
        <ul className="audit">
          {audit.results.map((entry) => (
            <li key={entry._id}>
              <span className="muted">{new Date(entry._creationTime).toLocaleString()}</span>{" "}
              <b>{entry.action}</b> {entry.target && <>→ {nameOf(entry.target)}</>} by {nameOf(entry.actor)}{" "}
              {entry.details && <code>{JSON.stringify(entry.details)}</code>}
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}
