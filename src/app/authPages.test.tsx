import { render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { describe, expect, test, vi } from "vitest";
import { SignInPage, SignUpPage } from "./authPages";

// Clerk's components stand in as their props, which is what these pages decide.
vi.mock("@clerk/clerk-react", () => ({
  SignIn: (props: object) => <pre data-testid="sign-in">{JSON.stringify(props)}</pre>,
  SignUp: (props: object) => <pre data-testid="sign-up">{JSON.stringify(props)}</pre>,
}));

function propsOf(page: "sign-in" | "sign-up", entry: string) {
  render(
    <MemoryRouter initialEntries={[entry]}>
      {page === "sign-in" ? <SignInPage /> : <SignUpPage />}
    </MemoryRouter>,
  );
  return JSON.parse(screen.getByTestId(page).textContent!) as Record<string, string>;
}

describe("sign-in and sign-up pages", () => {
  test("sign-in forces Clerk to return to the validated target, and sign-up from there through onboarding", () => {
    expect(propsOf("sign-in", "/sign-in?redirect_url=%2Finsights%3Frange%3D30d")).toMatchObject({
      routing: "path",
      path: "/sign-in",
      forceRedirectUrl: "/insights?range=30d",
      signUpForceRedirectUrl: "/onboarding?redirect_url=%2Finsights%3Frange%3D30d",
    });
    expect(document.title).toBe("Sign in · Gatehouse");
  });

  test.each([
    "//evil.example",
    "https://evil.example",
    "javascript:alert(1)",
    "/%5Cevil.example",
    "/.//evil",
  ])("an unsafe target %j is replaced by home (Clerk never sees it as its redirect)", (target) => {
    const props = propsOf("sign-in", `/sign-in?redirect_url=${encodeURIComponent(target)}`);
    expect(props.forceRedirectUrl).toBe("/");
    expect(props.signUpForceRedirectUrl).toBe("/onboarding");
  });

  test("without a target, sign-in goes home and sign-up to onboarding", () => {
    expect(propsOf("sign-in", "/sign-in")).toMatchObject({
      forceRedirectUrl: "/",
      signUpForceRedirectUrl: "/onboarding",
    });
  });

  test("sign-up goes through onboarding and keeps the target", () => {
    expect(propsOf("sign-up", "/sign-up?redirect_url=%2Fpublic")).toMatchObject({
      path: "/sign-up",
      forceRedirectUrl: "/onboarding?redirect_url=%2Fpublic",
      signInForceRedirectUrl: "/public",
    });
    expect(document.title).toBe("Sign up · Gatehouse");
  });
});
