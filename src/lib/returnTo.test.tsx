import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { returnToFrom, safeReturnTo, withReturnTo } from "./returnTo";

const PROBE = "http://gatehouse.invalid";

describe("safeReturnTo", () => {
  test.each(["/", "/insights", "/admin?tab=audit", "/public#top", "/account/security", "/posts/a%20b"])(
    "accepts the same-origin path %j",
    (path) => {
      expect(safeReturnTo(path)).toBe(path);
    },
  );

  test.each([
    ["missing", null],
    ["undefined", undefined],
    ["empty", ""],
    ["protocol-relative", "//evil.example"],
    ["protocol-relative with path", "//evil.example/insights"],
    ["backslash", "/\\evil.example"],
    ["backslash first", "\\\\evil.example"],
    ["mixed slashes", "\\/evil.example"],
    ["absolute http", "http://evil.example/"],
    ["absolute https", "https://evil.example/"],
    ["same host, absolute", `${PROBE}/insights`],
    ["javascript", "javascript:alert(1)"],
    ["javascript, upper case", "JavaScript:alert(1)"],
    ["data", "data:text/html,<script>alert(1)</script>"],
    ["relative", "insights"],
    ["dot relative", "./insights"],
    ["encoded slash pair", "/%2F%2Fevil.example"],
    ["encoded slash after slash", "/%2Fevil.example"],
    ["encoded backslash", "/%5Cevil.example"],
    ["double-encoded slash", "/%252F%252Fevil.example"],
    ["fully encoded", "%2F%2Fevil.example"],
    ["encoded javascript", "javascript%3Aalert(1)"],
    ["tab inside //", "/\t/evil.example"],
    ["newline inside //", "/\n/evil.example"],
    ["encoded tab", "/%09/evil.example"],
    ["leading space", " /insights"],
    ["dot segment to //", "/.//evil.example"],
    ["dot-dot segment to //", "/a/..//evil.example"],
    ["encoded dot segment to //", "/%2e//evil.example"],
    ["malformed escape", "/%E0%A4%A"],
    ["too long", `/${"a".repeat(3000)}`],
    ["sign-in (would loop)", "/sign-in"],
    ["sign-in step", "/sign-in/factor-one"],
    ["sign-up", "/sign-up?x=1"],
    ["sign-in in capitals (the router matches any case)", "/SIGN-IN"],
    ["sign-up in mixed case", "/Sign-Up/verify"],
    ["sign-in with an encoded letter", "/sign%2Din"],
    ["sign-in after a dot segment", "/x/../sign-in"],
  ])("refuses %s", (_name, raw) => {
    expect(safeReturnTo(raw)).toBeNull();
  });

  test("property: whatever it accepts is a path that resolves on this origin, however often it is decoded", () => {
    const pieces = fc.constantFrom(
      "/",
      "//",
      "\\",
      "%2F",
      "%2f",
      "%5C",
      "%25",
      "%",
      ":",
      "javascript:",
      "http:",
      "evil.example",
      "@",
      "?",
      "#",
      ".",
      "..",
      "\t",
      "\n",
      " ",
      "a",
      "insights",
    );
    const candidate = fc.oneof(
      fc.string(),
      fc.array(pieces, { maxLength: 8 }).map((p) => p.join("")),
      fc.webUrl(),
      fc.webPath(),
    );
    fc.assert(
      fc.property(candidate, (raw) => {
        const path = safeReturnTo(raw);
        if (path === null) return;
        expect(path.startsWith("/")).toBe(true);
        expect(path[1]).not.toBe("/");
        expect(path).not.toContain("\\");
        let layer = path;
        for (let i = 0; i < 4; i++) {
          expect(new URL(layer, PROBE).origin).toBe(PROBE);
          expect(layer.startsWith("//") || layer.startsWith("/\\")).toBe(false);
          const next = decodeURIComponent(layer);
          if (next === layer) break;
          layer = next;
        }
      }),
      { numRuns: 2000 },
    );
  });

  test("property: every plain path of letters and slashes (no double slash) comes back unchanged", () => {
    const segment = fc.stringMatching(/^[a-z0-9-]{1,12}$/);
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 5 }), (segments) => {
        const path = `/${segments.join("/")}`;
        fc.pre(!/^\/sign-(in|up)(\/|$)/.test(path));
        expect(safeReturnTo(path)).toBe(path);
      }),
    );
  });
});

describe("returnToFrom / withReturnTo", () => {
  test("round trip through the query string", () => {
    const target = "/insights?range=30d#chart";
    const url = withReturnTo("/sign-in", target);
    expect(url).toBe("/sign-in?redirect_url=%2Finsights%3Frange%3D30d%23chart");
    expect(returnToFrom(url.slice(url.indexOf("?")))).toBe(target);
  });

  test("no target, no query", () => {
    expect(withReturnTo("/onboarding", null)).toBe("/onboarding");
    expect(returnToFrom("")).toBeNull();
    expect(returnToFrom("?redirect_url=%2F%2Fevil.example")).toBeNull();
  });
});
