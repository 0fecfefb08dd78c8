import { act, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { useState } from "react";
import { beforeEach, describe, expect, test, vi } from "vitest";
import { ToastProvider } from "../../components/toast/ToastProvider";
import { describeEntry } from "./auditText";

const setRole = vi.fn();
const setPlan = vi.fn();
const users = [
  {
    clerkId: "user_admin",
    email: "ada@x.test",
    name: "Ada Admin",
    imageUrl: "",
    role: "admin",
    plan: "pro",
    synced: true,
  },
  {
    clerkId: "user_frankie",
    email: "frankie@x.test",
    name: "Frankie Free",
    imageUrl: "",
    role: "user",
    plan: "free_user",
    synced: true,
  },
  {
    clerkId: "user_grace",
    email: "grace@x.test",
    name: "Grace Granted",
    imageUrl: "",
    role: "user",
    plan: "pro",
    planOverride: "pro",
    synced: true,
  },
];

vi.mock("../../../convex/_generated/api", () => ({
  api: {
    admin: {
      listUsers: "listUsers",
      auditLog: "auditLog",
      setRole: () => setRole,
      setPlan: () => setPlan,
      reconcileUsers: vi.fn(),
    },
  },
}));
vi.mock("../../auth/useViewer", () => ({
  useViewer: () => ({ clerkId: "user_admin", role: "admin", plan: "pro" }),
}));

type Entry = {
  _id: string;
  _creationTime: number;
  action: string;
  actor: string;
  target?: string;
  kinds: string[];
  details?: Record<string, string>;
};
type Args = { fold?: boolean; kind?: string; person?: string; search?: string };
/** What the fake server holds (newest first), and every page size the page asked for after the first. */
const server = { audit: [] as Entry[], people: [] as typeof users, loads: [] as number[] };

/** Filters as the server does each page it reads (convex/admin.ts). */
function matches(fn: unknown, args: Args, doc: Entry | (typeof users)[number]): boolean {
  if (fn === "listUsers") {
    const u = doc as (typeof users)[number];
    return !args.search || `${u.name} ${u.email}`.toLowerCase().includes(args.search.toLowerCase());
  }
  const e = doc as Entry;
  return (
    (!args.kind || e.kinds.includes(args.kind)) &&
    (!args.person || e.actor === args.person || e.target === args.person)
  );
}

/**
 * usePaginatedQuery over a server that filters the documents each page reads: a page may hold
 * no matches and still not be the last; loadMore goes through LoadingMore, as Convex's does.
 */
function useFakePages(fn: unknown, args: Args, initialNumItems: number) {
  const key = JSON.stringify(args);
  const [state, setState] = useState({ key, read: initialNumItems, loading: false });
  const current = state.key === key ? state : { key, read: initialNumItems, loading: false };
  const source: readonly (Entry | (typeof users)[number])[] =
    fn === "auditLog" ? server.audit : args.search ? server.people : users;
  const results = source.slice(0, current.read).filter((d) => matches(fn, args, d));
  const status = current.loading
    ? "LoadingMore"
    : current.read >= source.length
      ? "Exhausted"
      : "CanLoadMore";
  const loadMore = (numItems: number) => {
    if (fn === "auditLog") server.loads.push(numItems);
    setState({ ...current, loading: true });
    setTimeout(() => setState((s) => ({ ...s, read: s.read + numItems, loading: false })), 0);
  };
  return { results, status, loadMore };
}

// useAction returns what it is given; the api mock hands it functions that return the spies.
vi.mock("convex/react", async () => ({
  usePaginatedQuery: (fn: unknown, args: Args, opts: { initialNumItems: number }) =>
    useFakePages(fn, args, opts.initialNumItems),
  useAction: (fn: () => unknown) => (typeof fn === "function" ? fn() : fn),
}));

const { default: AdminPage } = await import("./AdminPage");

function renderPage() {
  return render(
    <ToastProvider>
      <AdminPage />
    </ToastProvider>,
  );
}

beforeEach(() => {
  setRole.mockReset().mockResolvedValue(null);
  setPlan.mockReset().mockResolvedValue(null);
  server.audit = [];
  server.people = [];
  server.loads = [];
});

/** `n` audit entries, newest first; those at `roleChanges` are Ada's role changes of Frankie. */
function auditOf(n: number, roleChanges: number[] = []): Entry[] {
  return Array.from({ length: n }, (_, i): Entry =>
    roleChanges.includes(i)
      ? {
          _id: `a${i}`,
          _creationTime: 1_000_000 - i,
          action: "admin.setRole",
          actor: "user_admin",
          target: "user_frankie",
          kinds: ["role"],
          details: { role: "admin", from: "user" },
        }
      : {
          _id: `a${i}`,
          _creationTime: 1_000_000 - i,
          action: "clerk.user.updated",
          actor: "clerk",
          target: `user_other_${i}`,
          kinds: ["account"],
          details: { svixId: `msg_${i}`, profile: "true" },
        },
  );
}

describe("AdminPage", () => {
  test("friendly names, one h1, the page title", () => {
    renderPage();
    expect(screen.getAllByRole("heading", { level: 1 }).map((h) => h.textContent)).toEqual([
      "Administration",
    ]);
    expect(document.title).toBe("Administration · Gatehouse");
    const plan = screen.getByLabelText("Plan of frankie@x.test");
    expect(
      within(plan)
        .getAllByRole("option")
        .map((o) => o.textContent),
    ).toEqual(["Free", "Pro"]);
    const role = screen.getByLabelText("Role of frankie@x.test");
    expect(
      within(role)
        .getAllByRole("option")
        .map((o) => o.textContent),
    ).toEqual(["Member", "Administrator"]);
    expect(document.body.textContent).not.toContain("free_user");
  });

  test("granting admin asks first: Cancel and Escape change nothing", async () => {
    renderPage();
    const role = screen.getByLabelText("Role of frankie@x.test") as HTMLSelectElement;
    fireEvent.change(role, { target: { value: "admin" } });
    const dialog = screen.getByRole("alertdialog", { name: "Grant administrator access?" });
    expect(dialog.textContent).toContain("Frankie Free (frankie@x.test)");
    fireEvent.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(screen.queryByRole("alertdialog")).toBeNull();
    expect(role.value).toBe("user");

    fireEvent.change(role, { target: { value: "admin" } });
    fireEvent.keyDown(document, { key: "Escape" });
    expect(screen.queryByRole("alertdialog")).toBeNull();
    expect(role.value).toBe("user");
    expect(setRole).not.toHaveBeenCalled();
  });

  test("confirming calls setRole once and reports success", async () => {
    renderPage();
    fireEvent.change(screen.getByLabelText("Role of frankie@x.test"), { target: { value: "admin" } });
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Make administrator" }));
    });
    expect(setRole).toHaveBeenCalledTimes(1);
    expect(setRole).toHaveBeenCalledWith({ clerkId: "user_frankie", role: "admin" });
    expect(await screen.findByText("Frankie Free is now an Administrator.")).toBeTruthy();
  });

  test("a refused plan change shows the server's sentence and the control goes back", async () => {
    const { ConvexError } = await import("convex/values");
    setPlan.mockRejectedValue(
      new ConvexError({ code: "RATE_LIMITED", message: "Too many changes; wait a moment." }),
    );
    renderPage();
    const plan = screen.getByLabelText("Plan of frankie@x.test") as HTMLSelectElement;
    await act(async () => {
      fireEvent.change(plan, { target: { value: "pro" } });
    });
    expect(setPlan).toHaveBeenCalledTimes(1);
    expect(await screen.findByText(/Could not change Frankie Free’s plan: /)).toBeTruthy();
    expect(plan.value).toBe("free_user");
  });
});

describe("an administrator's plan (an override of the subscription)", () => {
  test("is marked as granted, and only then can it be lifted so the subscription decides", async () => {
    setPlan.mockResolvedValue(null);
    renderPage();
    const granted = screen.getByLabelText("Plan of grace@x.test") as HTMLSelectElement;
    expect(
      within(granted)
        .getAllByRole("option")
        .map((o) => o.textContent),
    ).toEqual(["Free", "Pro", "By subscription"]);
    expect(granted.closest("td")!.textContent).toContain("granted");
    expect(screen.getByLabelText("Plan of frankie@x.test").closest("td")!.textContent).not.toContain(
      "granted",
    );
    await act(async () => {
      fireEvent.change(granted, { target: { value: "subscription" } });
    });
    expect(setPlan).toHaveBeenCalledWith({ clerkId: "user_grace", plan: null });
    expect(await screen.findByText("Grace Granted’s plan now follows their subscription.")).toBeTruthy();
  });
});

describe("audit lines", () => {
  const names: Record<string, string> = { user_admin: "Ada Admin", user_frankie: "Frankie Free" };
  const nameOf = (id: string) => names[id] ?? id;
  const entry = (
    action: string,
    details: Record<string, string | number | boolean | null>,
    actor = "user_admin",
  ) => ({
    _id: "1",
    _creationTime: 0,
    action,
    actor,
    target: "user_frankie",
    details,
  });

  test("plan and role changes read as before → after", () => {
    expect(describeEntry(entry("admin.setPlan", { plan: "pro", from: "free_user" }), nameOf)).toBe(
      "Ada Admin changed Frankie Free’s plan: Free → Pro",
    );
    expect(describeEntry(entry("admin.setRole", { role: "admin", from: "user" }), nameOf)).toBe(
      "Ada Admin changed Frankie Free’s role: Member → Administrator",
    );
    // Entries recorded before "from" existed still read well.
    expect(describeEntry(entry("admin.setPlan", { plan: "pro" }), nameOf)).toBe(
      "Ada Admin set Frankie Free’s plan to Pro",
    );
  });

  test("Clerk Billing's events, a lapsed period and a lifted override", () => {
    expect(
      describeEntry(
        entry(
          "clerk.subscriptionItem.active",
          { item: "pro", status: "active", plan: "pro", planFrom: "free_user" },
          "clerk",
        ),
        nameOf,
      ),
    ).toBe("Clerk Billing: Frankie Free’s Pro subscription is active; plan: Free → Pro");
    expect(
      describeEntry(
        entry("clerk.subscriptionItem.canceled", { item: "pro", status: "canceled" }, "clerk"),
        nameOf,
      ),
    ).toBe("Clerk Billing: Frankie Free’s Pro subscription was canceled (kept until its period ends)");
    expect(
      describeEntry(entry("billing.periodEnded", { plan: "free_user", planFrom: "pro" }, "clerk"), nameOf),
    ).toBe("Frankie Free’s canceled subscription ran out: Pro → Free");
    expect(
      describeEntry(entry("admin.setPlan", { plan: "pro", from: "free_user", override: "lifted" }), nameOf),
    ).toBe("Ada Admin lifted the override on Frankie Free’s plan, so the subscription decides: Free → Pro");
  });

  test("Clerk's updates, syncs and accounts", () => {
    expect(
      describeEntry(
        entry(
          "clerk.user.updated",
          { svixId: "msg", plan: "pro", planFrom: "free_user", profile: true },
          "clerk",
        ),
        nameOf,
      ),
    ).toBe("Clerk updated Frankie Free’s account: plan: Free → Pro; profile updated");
    expect(
      describeEntry(
        {
          ...entry("users.reconcile", { clerkUsers: 5, created: 1, updated: 0, deleted: 2 }),
          target: undefined,
        },
        nameOf,
      ),
    ).toBe("Ada Admin synced with Clerk: compared 5 users, 1 added, 0 updated, 2 removed");
    const run = (details: Record<string, number | string>) =>
      describeEntry(
        {
          ...entry("users.reconcile", { clerkUsers: 5, created: 0, updated: 0, deleted: 0, ...details }),
          target: undefined,
        },
        nameOf,
      );
    const synced = "Ada Admin synced with Clerk: compared 5 users, 0 added, 0 updated, 0 removed";
    expect(run({ subscriptionsRepaired: 1, billing: "checked" })).toBe(`${synced}; 1 subscription repaired`);
    expect(run({ subscriptionsRepaired: 2, billing: "continuing" })).toBe(
      `${synced}; 2 subscriptions repaired so far, the rest are being checked in the background`,
    );
    expect(run({ subscriptionsRepaired: 0, billing: "off" })).toBe(
      `${synced}; subscriptions not checked (Clerk Billing is off)`,
    );
    expect(run({ subscriptionsRepaired: 0, billing: "failed" })).toBe(
      `${synced}; 0 subscriptions repaired, then Clerk stopped answering (the next sync goes on)`,
    );
    expect(
      describeEntry(
        entry("reconcile.billing", { item: "pro", status: "active", plan: "pro", planFrom: "free_user" }),
        nameOf,
      ),
    ).toBe("Sync with Clerk Billing: Frankie Free’s Pro subscription is active; plan: Free → Pro");
    expect(describeEntry(entry("clerk.user.created", {}, "clerk"), nameOf)).toBe(
      "Frankie Free signed up (synced from Clerk)",
    );
  });
});

describe("audit log filters read on until enough entries match", () => {
  const kindSelect = () => screen.getByLabelText("Kind");
  const personSelect = () => screen.getByLabelText("Person");
  const roleLines = () => screen.queryAllByText(/changed Frankie Free’s role/);

  test("without a filter, one page and a button for older entries", async () => {
    server.audit = auditOf(120, [100]);
    renderPage();
    expect(await screen.findByRole("button", { name: "Older entries" })).toBeTruthy();
    expect(server.loads).toEqual([]);
    expect(roleLines()).toHaveLength(0);
  });

  test("a kind whose matches are pages back: further pages are read until the log ends", async () => {
    server.audit = auditOf(400, [120, 333]);
    renderPage();
    fireEvent.change(kindSelect(), { target: { value: "role" } });
    await waitFor(() => expect(roleLines()).toHaveLength(2));
    await waitFor(() => expect(server.loads).toEqual(Array(7).fill(50)));
    expect(screen.queryByRole("button", { name: /older entries/i })).toBeNull();
    expect(screen.queryByText(/No matching entries/)).toBeNull();
  });

  test("enough matches: it stops asking, and offers to search older entries", async () => {
    const everyFifth = Array.from({ length: 100 }, (_, i) => i * 5);
    server.audit = auditOf(500, everyFifth);
    renderPage();
    fireEvent.change(kindSelect(), { target: { value: "role" } });
    // 50 entries read hold 10 matches; 100 hold 20: enough.
    await waitFor(() => expect(roleLines()).toHaveLength(20));
    expect(await screen.findByRole("button", { name: "Search older entries" })).toBeTruthy();
    expect(server.loads).toEqual([50]);
  });

  test("nothing matches in the whole log: a clear empty state", async () => {
    server.audit = auditOf(180);
    renderPage();
    fireEvent.change(kindSelect(), { target: { value: "plan" } });
    expect(await screen.findByText("No matching entries.")).toBeTruthy();
    expect(server.loads).toEqual([50, 50, 50]);
    expect(screen.queryByRole("button", { name: /older entries/i })).toBeNull();
  });

  test("nothing matches in ten further pages: it says so and searches on when asked", async () => {
    server.audit = auditOf(2_000, [1_500]);
    renderPage();
    fireEvent.change(personSelect(), { target: { value: "user_frankie" } });
    await waitFor(() => expect(server.loads).toHaveLength(10));
    expect(
      await screen.findByText("No matching entries so far; older entries are not searched yet."),
    ).toBeTruthy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.loads).toHaveLength(10);
    fireEvent.click(screen.getByRole("button", { name: "Search older entries" }));
    await waitFor(() => expect(server.loads).toHaveLength(11));
    // Changing the filter starts a fresh search (ten more pages at most).
    fireEvent.change(kindSelect(), { target: { value: "role" } });
    await waitFor(() => expect(server.loads).toHaveLength(21));
    expect(await screen.findByRole("button", { name: "Search older entries" })).toBeTruthy();
  });

  test("the users search reads on the same way (shared logic)", async () => {
    server.people = Array.from({ length: 300 }, (_, i) => ({
      ...users[1]!,
      clerkId: `user_bulk_${i}`,
      email: `bulk${i}@x.test`,
      name: i === 280 ? "Ada Lovelace" : `Bulk ${i}`,
    }));
    renderPage();
    fireEvent.change(screen.getByRole("searchbox"), { target: { value: "lovelace" } });
    expect(await screen.findByText("bulk280@x.test")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Search further" })).toBeNull();
  });
});
