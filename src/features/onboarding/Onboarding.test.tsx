import { fireEvent, render, screen } from "@testing-library/react";
import { MemoryRouter, Route, Routes } from "react-router-dom";
import { describe, expect, test, vi } from "vitest";
import { Onboarding } from "./Onboarding";

const update = vi.fn(async () => undefined);
vi.mock("@clerk/clerk-react", () => ({ useUser: () => ({ user: { firstName: "", update } }) }));
vi.mock("../../auth/useViewer", () => ({
  useViewer: () => ({ plan: "free_user", role: "user", email: "nova@example.test" }),
}));

function onboard(entry: string) {
  render(
    <MemoryRouter initialEntries={[entry]}>
      <Routes>
        <Route path="/onboarding" element={<Onboarding />} />
        <Route path="/insights" element={<p>Insights page</p>} />
        <Route path="/" element={<p>Home page</p>} />
      </Routes>
    </MemoryRouter>,
  );
  fireEvent.change(screen.getByLabelText("What should we call you?"), { target: { value: "Nova" } });
}

describe("Onboarding", () => {
  test("after the name, on to where the visitor was going", async () => {
    onboard("/onboarding?redirect_url=%2Finsights");
    fireEvent.click(screen.getByRole("button", { name: "Continue" }));
    await screen.findByText("Insights page");
    expect(update).toHaveBeenCalledWith({ firstName: "Nova" });
  });

  test("without a (valid) target, home", async () => {
    onboard("/onboarding?redirect_url=%2F%2Fevil.example");
    expect(document.title).toBe("Welcome · Gatehouse");
    fireEvent.click(screen.getByRole("button", { name: "Continue to my posts" }));
    await screen.findByText("Home page");
  });
});
