import { act, renderHook } from "@testing-library/react";
import { afterEach, expect, test, vi } from "vitest";
import { useUtcDay, utcDay } from "./useUtcDay";

afterEach(() => vi.useRealTimers());

test("utcDay is the UTC calendar day, whatever the local time zone says", () => {
  expect(utcDay(Date.UTC(2026, 2, 15, 23, 59, 59, 999))).toBe("2026-03-15");
  expect(utcDay(Date.UTC(2026, 2, 16, 0, 0, 0, 0))).toBe("2026-03-16");
});

test("the hook moves to the next day at UTC midnight, and again a day later", () => {
  vi.useFakeTimers();
  vi.setSystemTime(Date.UTC(2026, 2, 15, 23, 59, 0));
  const { result } = renderHook(() => useUtcDay());
  expect(result.current).toBe("2026-03-15");
  act(() => vi.advanceTimersByTime(59_000));
  expect(result.current).toBe("2026-03-15");
  act(() => vi.advanceTimersByTime(1_000 + 10));
  expect(result.current).toBe("2026-03-16");
  act(() => vi.advanceTimersByTime(24 * 60 * 60 * 1000));
  expect(result.current).toBe("2026-03-17");
});
