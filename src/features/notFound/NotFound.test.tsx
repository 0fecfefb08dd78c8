import { render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { expect, test } from "vitest";
import { NotFound } from "./NotFound";

test("an unknown path: one h1, the path named, a link home, a title", () => {
  render(
    <MemoryRouter initialEntries={["/no/such/page"]}>
      <NotFound />
    </MemoryRouter>,
  );
  expect(screen.getAllByRole("heading", { level: 1 }).map((h) => h.textContent)).toEqual(["Page not found"]);
  expect(screen.getByText("/no/such/page")).toBeTruthy();
  expect(screen.getByRole("link", { name: "Go to the home page" }).getAttribute("href")).toBe("/");
  expect(document.title).toBe("Page not found · Gatehouse");
});
