import { act, render, screen } from "@testing-library/react";
import type { ConnectionState } from "convex/browser";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { ConnectionIndicator } from "./ConnectionIndicator";

let state: ConnectionState;
vi.mock("convex/react", () => ({ useConvexConnectionState: () => state }));

const connected: ConnectionState = {
  hasInflightRequests: false,
  isWebSocketConnected: true,
  timeOfOldestInflightRequest: null,
  hasEverConnected: true,
  connectionCount: 1,
  connectionRetries: 0,
  inflightMutations: 0,
  inflightActions: 0,
};

beforeEach(() => {
  vi.useFakeTimers();
  state = { ...connected };
});
afterEach(() => vi.useRealTimers());

describe("ConnectionIndicator", () => {
  test("says nothing while connected, nor during a short blip", () => {
    const view = render(<ConnectionIndicator />);
    expect(screen.queryByRole("status")).toBeNull();
    state = { ...connected, isWebSocketConnected: false };
    view.rerender(<ConnectionIndicator />);
    act(() => vi.advanceTimersByTime(1_000));
    expect(screen.queryByRole("status")).toBeNull();
    state = { ...connected, connectionCount: 2 };
    view.rerender(<ConnectionIndicator />);
    act(() => vi.advanceTimersByTime(5_000));
    expect(screen.queryByRole("status")).toBeNull();
  });

  test("says Reconnecting after the grace period, that pending changes are kept, and clears on reconnect", () => {
    const view = render(<ConnectionIndicator />);
    state = { ...connected, isWebSocketConnected: false, hasInflightRequests: true, inflightMutations: 1 };
    view.rerender(<ConnectionIndicator />);
    act(() => vi.advanceTimersByTime(2_000));
    expect(screen.getByRole("status").textContent).toBe(
      "Reconnecting… Your changes are kept and will be sent.",
    );
    state = { ...connected, connectionCount: 2 };
    view.rerender(<ConnectionIndicator />);
    expect(screen.queryByRole("status")).toBeNull();
    // A second outage gets its own grace period.
    state = { ...connected, connectionCount: 2, isWebSocketConnected: false };
    view.rerender(<ConnectionIndicator />);
    expect(screen.queryByRole("status")).toBeNull();
  });

  test("calls out requests that the server has not answered for 10 s", () => {
    const view = render(<ConnectionIndicator />);
    state = { ...connected, hasInflightRequests: true, timeOfOldestInflightRequest: new Date(Date.now()) };
    view.rerender(<ConnectionIndicator />);
    act(() => vi.advanceTimersByTime(5_000));
    expect(screen.queryByRole("status")).toBeNull();
    act(() => vi.advanceTimersByTime(6_000));
    expect(screen.getByRole("status").textContent).toMatch(/^The server is slow to answer…/);
  });
});
