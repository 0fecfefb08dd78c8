import { describe, expect, test } from "vitest";
import { isTypedRefusal } from "./convexLogger";

describe("isTypedRefusal", () => {
  test("a typed refusal from the map, as the Convex client prints it", () => {
    const line =
      '[CONVEX M(posts:create)] [Request ID: 1a2b] Server Error\nUncaught ConvexError: {"code":"INVALID_INPUT","message":"Title must not be blank"}\n  Called by client';
    expect(isTypedRefusal([line])).toBe(true);
    expect(isTypedRefusal(['Uncaught ConvexError: {"requiredPlan":"pro","code":"UPGRADE_REQUIRED"}'])).toBe(
      true,
    );
  });

  test("anything else stays an error: other codes, plain errors, unparsable data", () => {
    expect(isTypedRefusal(['Uncaught ConvexError: {"code":"SOMETHING_NEW"}'])).toBe(false);
    expect(isTypedRefusal(["[CONVEX M(posts:create)] Server Error\nUncaught Error: boom"])).toBe(false);
    expect(isTypedRefusal(["Uncaught ConvexError: {not json"])).toBe(false);
    expect(isTypedRefusal([new Error("x")])).toBe(false);
  });
});
