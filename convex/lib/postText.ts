/**
 * How a post's text is measured, on the server (validators.ts) and by the SPA's counters alike:
 * characters are code points, not UTF-16 units, and a title counts without invisible characters
 * and surrounding spaces. No imports: the client bundles this module.
 */

/** The longest title and body, in code points (the validators' limits; the SPA's counters show them). */
export const TITLE_MAX = 120;
export const BODY_MAX = 10_000;

/** Zero-width and other invisible format characters do not make a title non-blank. */
const INVISIBLE = /[\u200B-\u200D\u2060\uFEFF]/gu;

/** A title as it is measured and stored: invisible characters and surrounding spaces removed. */
export const normalizeTitle = (title: string) => title.replace(INVISIBLE, "").trim();

/**
 * The code points in `s`, counting no further than `stopAt`. A high surrogate followed by a low
 * one is one code point; a lone surrogate counts as one too.
 */
export function countCodePoints(s: string, stopAt = Infinity): number {
  let count = 0;
  for (let i = 0; i < s.length && count < stopAt; i++) {
    const unit = s.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < s.length) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    count++;
  }
  return count;
}
