import { render, screen } from "@testing-library/react";
import { MemoryRouter, Route, Routes, useLocation } from "react-router-dom";
import { beforeEach, describe, expect, test, vi } from "vitest";
import { RequireSignedIn } from "./guards";

const auth = vi.hoisted(() => ({ isLoaded: true, isSignedIn: false as boolean | undefined }));
vi.mock("@clerk/clerk-react", () => ({ useAuth: () => auth }));
vi.mock("convex/react", () => ({
  useConvexAuth: () => ({ isLoading: false, isAuthenticated: auth.isSignedIn }),
}));
vi.mock("../auth/useViewer", () => ({ useViewer: () => null }));

function Where() {
  const { pathname, search } = useLocation();
  return <p data-testid="where">{`${pathname}${search}`}</p>;
}

function visit(entry: string) {
  render(
    <MemoryRouter initialEntries={[entry]}>
      <Routes>
        <Route path="/sign-in/*" element={<Where />} />
        <Route
          path="*"
          element={
            <RequireSignedIn>
              <p>Protected content</p>
            </RequireSignedIn>
          }
        />
      </Routes>
    </MemoryRouter>,
  );
}

describe("RequireSignedIn", () => {
  beforeEach(() => {
    auth.isLoaded = true;
    auth.isSignedIn = false;
  });

  test("a visitor goes to sign-in with the page they asked for as the return target", () => {
    visit("/insights?range=30d#chart");
    expect(screen.getByTestId("where").textContent).toBe(
      "/sign-in?redirect_url=%2Finsights%3Frange%3D30d%23chart",
    );
    expect(screen.queryByText("Protected content")).toBeNull();
  });

  test("the return target round-trips to exactly the protected path", () => {
    visit("/admin");
    const search = screen.getByTestId("where").textContent!.split("?")[1]!;
    expect(new URLSearchParams(search).get("redirect_url")).toBe("/admin");
  });

  test("a path that would not pass the validator is dropped, not carried along", () => {
    visit("/.//evil.example");
    expect(screen.getByTestId("where").textContent).toBe("/sign-in");
  });

  test("a member sees the page; nothing is shown while Clerk loads", () => {
    auth.isLoaded = false;
    visit("/insights");
    expect(screen.getByText("Loading…")).toBeTruthy();
    auth.isLoaded = true;
    auth.isSignedIn = true;
    visit("/insights");
    expect(screen.getByText("Protected content")).toBeTruthy();
  });
});
