import { act, fireEvent, render, screen } from "@testing-library/react";
import { ConvexError } from "convex/values";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { ErrorBoundary } from "./ErrorBoundary";

const clerk = vi.hoisted(() => ({ signOut: vi.fn(() => Promise.resolve()) }));
const convexAuth = vi.hoisted(() => ({ isLoading: false, isAuthenticated: true }));
const clerkAuth = vi.hoisted(() => ({ isLoaded: true, isSignedIn: true }));
vi.mock("@clerk/clerk-react", () => ({ useClerk: () => clerk, useAuth: () => clerkAuth }));
vi.mock("convex/react", () => ({ useConvexAuth: () => convexAuth }));

let failure: unknown = null;
function Page() {
  if (failure !== null) throw failure;
  return <p>The page</p>;
}

describe("ErrorBoundary", () => {
  beforeEach(() => {
    clerk.signOut.mockClear();
    convexAuth.isAuthenticated = true;
    clerkAuth.isSignedIn = true;
    // React reports caught render errors on the console; the boundary's own report is asserted below.
    vi.spyOn(console, "error").mockImplementation(() => undefined);
  });
  afterEach(() => {
    failure = null;
    vi.restoreAllMocks();
  });

  test("a page that throws shows one heading saying so, and Try again renders it afresh", () => {
    failure = new Error("boom");
    render(
      <ErrorBoundary>
        <Page />
      </ErrorBoundary>,
    );
    expect(screen.getByRole("heading", { level: 1 }).textContent).toBe("Something went wrong");
    expect(screen.queryByText("boom")).toBeNull(); // no internals shown to the user
    expect(console.error).toHaveBeenCalledWith("Unhandled UI error", failure, expect.anything());
    failure = null;
    fireEvent.click(screen.getByRole("button", { name: "Try again" }));
    expect(screen.getByText("The page")).toBeTruthy();
    expect(clerk.signOut).not.toHaveBeenCalled();
  });

  test("the server refusing an accepted identity ends the Clerk session, quietly", () => {
    failure = new ConvexError({ code: "UNAUTHENTICATED", message: "Your account was deleted." });
    render(
      <ErrorBoundary>
        <Page />
      </ErrorBoundary>,
    );
    expect(screen.getByRole("heading", { level: 1 }).textContent).toBe("Signed out");
    expect(screen.getByText("Your account was deleted.")).toBeTruthy();
    expect(clerk.signOut).toHaveBeenCalledTimes(1);
    expect(console.error).not.toHaveBeenCalledWith(
      "Unhandled UI error",
      expect.anything(),
      expect.anything(),
    );
  });

  test("a refusal while Convex holds no accepted token leaves the Clerk session alone", () => {
    convexAuth.isAuthenticated = false;
    failure = new ConvexError({ code: "UNAUTHENTICATED", message: "Please sign in again." });
    render(
      <ErrorBoundary>
        <Page />
      </ErrorBoundary>,
    );
    expect(screen.getByRole("heading", { level: 1 }).textContent).toBe("Signed out");
    expect(clerk.signOut).not.toHaveBeenCalled();
  });

  test("when the session ends by another path first, the page renders afresh as signed out", () => {
    // signOut() finds no session left (another tab's broadcast got there first) and does not navigate.
    failure = new ConvexError({ code: "UNAUTHENTICATED", message: "This account has been deleted" });
    const { rerender } = render(
      <ErrorBoundary>
        <Page />
      </ErrorBoundary>,
    );
    expect(screen.getByRole("heading", { level: 1 }).textContent).toBe("Signed out");
    failure = null;
    clerkAuth.isSignedIn = false;
    convexAuth.isAuthenticated = false;
    act(() =>
      rerender(
        <ErrorBoundary>
          <Page />
        </ErrorBoundary>,
      ),
    );
    expect(screen.getByText("The page")).toBeTruthy();
    expect(screen.queryByRole("alert")).toBeNull();
  });

  test("a refusal that comes while already signed out keeps its card (no render-throw-reset loop)", async () => {
    clerkAuth.isSignedIn = false;
    convexAuth.isAuthenticated = false;
    const rendered = vi.fn();
    function Refused() {
      rendered();
      // Stops a loop (so the test fails instead of hanging): no boundary needs this many tries.
      if (rendered.mock.calls.length > 20) return <p>Rendered too often</p>;
      throw new ConvexError({ code: "UNAUTHENTICATED", message: "Sign in to continue" });
    }
    render(
      <ErrorBoundary>
        <Refused />
      </ErrorBoundary>,
    );
    // Two passes (the refusal, and the one fresh render once signed out), each of which React may
    // try up to three times before the boundary takes the error.
    const rendersToSettle = rendered.mock.calls.length;
    await act(() => new Promise((resolve) => setTimeout(resolve, 20)));
    expect(screen.getByRole("heading", { level: 1 }).textContent).toBe("Signed out");
    expect(rendered).toHaveBeenCalledTimes(rendersToSettle);
    expect(rendersToSettle).toBeLessThanOrEqual(6);
  });
});
