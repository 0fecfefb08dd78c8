/**
 * Input bounds: the limits count characters (code points), and an oversized string is refused
 * in time that does not grow with its size (a 20 MB title must not stall the engine).
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { BODY_MAX, TITLE_MAX } from "./lib/postText";
import { hasAtMostCodePoints, parseInput, postInput } from "./lib/validators";

describe("hasAtMostCodePoints", () => {
  test("property: agrees with counting the spread string, for any string and bound", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: "binary", maxLength: 40 })),
        fc.nat(45),
        (s, max) => hasAtMostCodePoints(s, max) === [...s].length <= max,
      ),
      { numRuns: 2000 },
    );
  });

  test("property: agrees where the length alone cannot decide (between max and 2·max UTF-16 units)", () => {
    const unit = fc.constantFrom("a", "é", "🦊", "\uD800", "\uDC00");
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.array(unit, { maxLength: 60 }), (max, parts) => {
        const s = parts.join("");
        fc.pre(s.length > max && s.length <= 2 * max);
        return hasAtMostCodePoints(s, max) === [...s].length <= max;
      }),
      { numRuns: 3000 },
    );
  });

  test("lone surrogates count as one character each", () => {
    expect(hasAtMostCodePoints("\uD800".repeat(3), 3)).toBe(true);
    expect(hasAtMostCodePoints("\uDC00\uDC00\uD800\uD800", 3)).toBe(false);
  });
});

describe("oversized post input", () => {
  const huge = "x".repeat(20 * 1024 * 1024);
  const cases = [
    ["title", { title: huge, body: "" }, `Title must be at most ${TITLE_MAX} characters`],
    ["body", { title: "ok", body: huge }, `Body must be at most ${BODY_MAX} characters`],
    [
      "astral body",
      { title: "ok", body: "🦊".repeat(BODY_MAX + 1) },
      `Body must be at most ${BODY_MAX} characters`,
    ],
  ] as const;

  test.each(cases)("a 20 MB %s is INVALID_INPUT within milliseconds", (_, input, message) => {
    parseInput(postInput.required(), { title: "warm-up", body: "" }); // zod's first call compiles
    const started = performance.now();
    let error: unknown;
    try {
      parseInput(postInput.required(), input);
    } catch (e) {
      error = e;
    }
    const elapsed = performance.now() - started;
    expect(error).toMatchObject({ data: { code: "INVALID_INPUT", message } });
    // Spreading 20 M characters into an array takes seconds; the bounded check takes microseconds.
    expect(elapsed).toBeLessThan(50);
  });

  test("a body of exactly the limit in astral characters (2·max units) is accepted", () => {
    const body = "🦊".repeat(BODY_MAX);
    expect(parseInput(postInput.required(), { title: "ok", body }).body).toBe(body);
  });

  test("padding around a title of exactly the limit is trimmed, not counted", () => {
    const title = `  ${"a".repeat(TITLE_MAX)}\u200B  `;
    expect(parseInput(postInput.required(), { title, body: "" }).title).toBe("a".repeat(TITLE_MAX));
  });
});
