/** Driving Clerk's own components as a person would (no test framework needed: also for scripts). */
import type { Page } from "playwright-core";
import { SEED_PASSWORD } from "../local/idp/config.ts";

/** Clerk's `<SignIn>`: the email first, then the password, then the app's dashboard. */
export async function signIn(page: Page, baseUrl: string, email: string, password = SEED_PASSWORD) {
  await page.goto(`${baseUrl}/sign-in`);
  await enterPassword(page, email, password);
  await page.getByRole("heading", { name: "My posts" }).waitFor();
}

/** Clerk's two sign-in steps, stopping at whatever the password leads to (dashboard or error). */
export async function enterPassword(page: Page, email: string, password: string) {
  await page.getByLabel("Email address").fill(email);
  await continueButton(page).click();
  // The first step also holds a hidden password field (for password managers); fill the second
  // step's once it has replaced the first, or the value is lost with the first step's form.
  await page.waitForURL(/\/sign-in\/factor-one/);
  await page.getByRole("heading", { name: "Enter your password" }).waitFor();
  const field = page.getByLabel("Password", { exact: true });
  await field.fill(password);
  if ((await field.inputValue()) !== password) throw new Error("the password field lost its value");
  await continueButton(page).click();
}

/** The message Clerk's form shows under a field (its own `error-<field>` element). */
export const fieldError = (page: Page, field: string) => page.locator(`#error-${field}`);

export const continueButton = (page: Page) => page.getByRole("button", { name: "Continue", exact: true });

/** Clerk's one-time-code field (one input behind the six boxes), filled once it is there. */
export async function enterCode(page: Page, code: string) {
  await page.getByLabel("Enter verification code").fill(code);
}
