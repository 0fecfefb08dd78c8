import { act, renderHook } from "@testing-library/react";
import { afterEach, describe, expect, test, vi } from "vitest";
import { useSignedOutElsewhere } from "./useSignedOutElsewhere";

let auth = { isLoaded: true, isSignedIn: true };
vi.mock("@clerk/clerk-react", () => ({ useAuth: () => auth }));

afterEach(() => vi.restoreAllMocks());

async function flip(rerender: () => void, next: typeof auth) {
  auth = next;
  await act(async () => {
    rerender();
    await Promise.resolve();
  });
}

describe("useSignedOutElsewhere", () => {
  test("a session that ends while the tab is in the background was ended elsewhere", async () => {
    auth = { isLoaded: true, isSignedIn: true };
    const { result, rerender } = renderHook(() => useSignedOutElsewhere());
    vi.spyOn(document, "hasFocus").mockReturnValue(false);
    await flip(rerender, { isLoaded: true, isSignedIn: false });
    expect(result.current).toBe(true);
    await flip(rerender, { isLoaded: true, isSignedIn: true });
    expect(result.current).toBe(false);
  });

  test("signing out in this tab, or never having been signed in, is not", async () => {
    auth = { isLoaded: true, isSignedIn: true };
    const { result, rerender } = renderHook(() => useSignedOutElsewhere());
    vi.spyOn(document, "hasFocus").mockReturnValue(true);
    await flip(rerender, { isLoaded: true, isSignedIn: false });
    expect(result.current).toBe(false);

    auth = { isLoaded: false, isSignedIn: false };
    const fresh = renderHook(() => useSignedOutElsewhere());
    vi.spyOn(document, "hasFocus").mockReturnValue(false);
    await flip(fresh.rerender, { isLoaded: true, isSignedIn: false });
    expect(fresh.result.current).toBe(false);
  });
});
