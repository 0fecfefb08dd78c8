import { render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { describe, expect, test } from "vitest";
import { UpgradePrompt } from "./UpgradePrompt";

describe("UpgradePrompt", () => {
  test("names the feature and links to the pricing page", () => {
    render(
      <MemoryRouter>
        <UpgradePrompt feature="Insights" description="Charts of your posts over time." />
      </MemoryRouter>,
    );
    expect(screen.getByRole("heading", { name: "Insights with Pro" })).toBeTruthy();
    expect(screen.getByRole("link", { name: "See plans" }).getAttribute("href")).toBe("/pricing");
  });

  test("compact form fits in a sentence", () => {
    render(
      <MemoryRouter>
        <UpgradePrompt feature="Scheduling" compact />
      </MemoryRouter>,
    );
    expect(screen.getByRole("note").textContent).toBe("Scheduling is part of Pro. See plans");
  });
});
