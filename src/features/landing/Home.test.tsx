import { render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { describe, expect, test, vi } from "vitest";
import { Home } from "./Home";

const auth = vi.hoisted(() => ({ isLoaded: true, isSignedIn: false }));
vi.mock("@clerk/clerk-react", () => ({ useAuth: () => auth }));
vi.mock("convex/react", () => ({
  useConvexAuth: () => ({ isLoading: false, isAuthenticated: auth.isSignedIn }),
}));
vi.mock("../posts/Dashboard", () => ({ Dashboard: () => <h2>My posts</h2> }));

const renderHome = () =>
  render(
    <MemoryRouter>
      <Home />
    </MemoryRouter>,
  );

describe("Home (/)", () => {
  test("a visitor gets the landing", () => {
    auth.isSignedIn = false;
    renderHome();
    expect(screen.getByRole("link", { name: "Sign up free" })).toBeTruthy();
    expect(screen.queryByText("My posts")).toBeNull();
  });

  test("a member gets the dashboard (its own chunk, loaded on the way)", async () => {
    auth.isSignedIn = true;
    renderHome();
    expect(await screen.findByText("My posts")).toBeTruthy();
    expect(screen.queryByRole("link", { name: "Sign up free" })).toBeNull();
  });

  test("a member signed out while on the dashboard gets the landing from its top; a visitor's scroll is left alone", async () => {
    const scrollTo = vi.spyOn(window, "scrollTo").mockImplementation(() => undefined);
    auth.isSignedIn = false;
    renderHome().unmount();
    expect(scrollTo).not.toHaveBeenCalled();

    auth.isSignedIn = true;
    const { rerender } = renderHome();
    await screen.findByText("My posts");
    expect(scrollTo).not.toHaveBeenCalled();
    auth.isSignedIn = false;
    rerender(
      <MemoryRouter>
        <Home />
      </MemoryRouter>,
    );
    expect(screen.getByRole("link", { name: "Sign up free" })).toBeTruthy();
    expect(scrollTo).toHaveBeenCalledWith(0, 0);
    scrollTo.mockRestore();
  });
});
