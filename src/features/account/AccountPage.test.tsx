import { render } from "@testing-library/react";
import { Children, isValidElement, type ReactNode } from "react";
import { describe, expect, test, vi } from "vitest";
import { AccountPage } from "./AccountPage";

type PageProps = { label: string; url?: string; children?: ReactNode };
const state = vi.hoisted(() => ({ pages: [] as PageProps[] }));

vi.mock("@clerk/clerk-react", () => {
  const Page = (_: PageProps) => null;
  const UserProfile = ({ children }: { children: ReactNode }) => {
    state.pages = Children.toArray(children)
      .filter(isValidElement)
      .map((child) => child.props as PageProps);
    return null;
  };
  UserProfile.Page = Page;
  return { UserProfile };
});
vi.mock("./PlanAndUsage", () => ({ PlanAndUsage: () => null }));
vi.mock("./YourData", () => ({ YourData: () => null }));

/**
 * How clerk-js 5.128.0 lays out <UserProfile>'s pages (its `createUserProfileCustomPages`): Clerk's
 * own pages that the children do not list come first, in Clerk's order (Profile, Security, and
 * Billing once Clerk Billing is on); then the children in their order. The first page is served at
 * the root. Its router mounts the first custom page at the root too unless Profile or Security is
 * first, so a first Billing page would hide it at its own URL and leave Billing unreachable.
 */
function clerkNavbar(pages: PageProps[]) {
  const clerkPages = ["account", "security", "billing"];
  const listed = pages.map((p) => (p.url === undefined ? p.label : `custom:${p.url}`));
  const navbar = [...clerkPages.filter((id) => !listed.includes(id)), ...listed];
  const customOnRoot = navbar[0] !== "account" && navbar[0] !== "security";
  return { navbar, customOnRoot };
}

describe("the account page", () => {
  test("Clerk's Billing page is placed by Gatehouse, so Profile stays at /account and every page has its URL", () => {
    render(<AccountPage />);
    const { navbar, customOnRoot } = clerkNavbar(state.pages);
    expect(navbar).toEqual(["account", "security", "billing", "custom:plan", "custom:data"]);
    expect(customOnRoot).toBe(false);
  });
});
