import { act, fireEvent, render, screen, within } from "@testing-library/react";
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

// useAction returns what it is given; the api mock hands it functions that return the spies.
vi.mock("convex/react", async () => ({
  usePaginatedQuery: (_fn: unknown, args: { fold?: boolean }) =>
    args.fold
      ? { results: [], status: "Exhausted", loadMore: vi.fn() }
      : { results: users, status: "Exhausted", loadMore: vi.fn() },
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
});

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
    expect(describeEntry(entry("clerk.user.created", {}, "clerk"), nameOf)).toBe(
      "Frankie Free signed up (synced from Clerk)",
    );
  });
});
