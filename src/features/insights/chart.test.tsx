import { render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { describe, expect, test } from "vitest";
import { chartSummary, fillDays } from "./chart";
import { InsightsPreview } from "./InsightsGate";
import { PostsChart } from "./PostsChart";

describe("posts chart", () => {
  const days = fillDays(
    [
      { day: "2026-03-10", count: 2 },
      { day: "2026-03-14", count: 5 },
      { day: "2026-03-15", count: 1 },
    ],
    "2026-03-09",
    "2026-03-15",
  );

  test("fills every day of the range", () => {
    expect(days.map((d) => d.count)).toEqual([0, 2, 0, 0, 0, 5, 1]);
  });

  test("the summary says the total, the active days and the busiest day", () => {
    expect(chartSummary(days)).toBe(
      "8 posts in the last 7 days, on 3 of them; the busiest day was Mar 14 with 5 posts.",
    );
    expect(chartSummary(fillDays([], "2026-03-09", "2026-03-15"))).toBe("No posts in the last 7 days.");
  });

  test("the SVG is an image named by the summary, with a table of the same numbers", () => {
    render(<PostsChart days={days} />);
    const img = screen.getByRole("img");
    expect(img.getAttribute("aria-labelledby")).toBeTruthy();
    expect(document.getElementById(img.getAttribute("aria-labelledby")!)!.textContent).toBe(
      chartSummary(days),
    );
    const rows = screen.getAllByRole("row");
    expect(rows).toHaveLength(8);
    expect(rows[6]!.textContent).toBe("Mar 145");
  });
});

describe("insights preview for free users", () => {
  test("a sample hidden from assistive tech, the offer and the way to Pro", () => {
    render(
      <MemoryRouter>
        <InsightsPreview />
      </MemoryRouter>,
    );
    expect(screen.getAllByRole("heading", { level: 1 }).map((h) => h.textContent)).toEqual(["Insights"]);
    expect(screen.getByRole("heading", { name: "Insights with Pro" })).toBeTruthy();
    expect(screen.getByRole("link", { name: "See plans" }).getAttribute("href")).toBe("/pricing");
    expect(screen.queryByRole("img")).toBeNull();
  });
});
