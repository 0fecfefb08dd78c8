/**
 * An internal failure while applying an event answers 500 so svix retries, leaves no
 * trace (not even the dedupe record), and the retry with the same svix-id then applies.
 */
import { afterEach, beforeEach, expect, test, vi } from "vitest";
import { deliver, newSvixId, userEvent, usersRow, WEBHOOK_SECRET } from "./test.webhooks";
import { newTest, snapshot } from "./test.world";

const failures = vi.hoisted(() => ({ remaining: 0 }));

vi.mock("./lib/clerkEvents", async (importOriginal) => {
  const original = await importOriginal<typeof import("./lib/clerkEvents")>();
  return {
    ...original,
    profileFrom: (user: Parameters<typeof original.profileFrom>[0]) => {
      if (failures.remaining > 0) {
        failures.remaining--;
        throw new Error("simulated storage failure");
      }
      return original.profileFrom(user);
    },
  };
});

beforeEach(() => vi.stubEnv("CLERK_WEBHOOK_SECRET", WEBHOOK_SECRET));
afterEach(() => vi.unstubAllEnvs());

test("a transient failure answers 500, changes nothing, and the retry applies exactly once", async () => {
  const t = newTest();
  const event = userEvent("user.created", "user_flaky");
  const svixId = newSvixId();
  const before = await snapshot(t);
  failures.remaining = 2;
  const errors = vi.spyOn(console, "error").mockImplementation(() => {});
  expect((await deliver(t, event, { svixId })).status).toBe(500);
  expect((await deliver(t, event, { svixId })).status).toBe(500);
  expect(await snapshot(t)).toEqual(before);
  expect(errors).toHaveBeenCalledTimes(2);
  errors.mockRestore();
  expect(await deliver(t, event, { svixId })).toEqual({ status: 200, body: { outcome: "applied" } });
  expect(await deliver(t, event, { svixId })).toEqual({ status: 200, body: { outcome: "duplicate" } });
  expect(await usersRow(t, "user_flaky")).toMatchObject({ synced: true });
});
