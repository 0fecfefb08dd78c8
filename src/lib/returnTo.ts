/**
 * Where to send someone after they sign in (or sign up): only a path on this origin. The value
 * comes from the URL (`?redirect_url=`), so anyone can craft it; anything that could leave the
 * site, or that a browser might read as another origin, is refused (null), including when
 * percent-decoded, because a router or server in between may decode it once more.
 */

/** The query parameter Clerk itself uses for a return target, so its own links carry it along. */
export const RETURN_PARAM = "redirect_url";

const MAX_LENGTH = 2048;
const PROBE_ORIGIN = "http://gatehouse.invalid";
/**
 * Pages that make no sense to come back to after signing in (they would send you on again). Any
 * case and any encoding: React Router matches paths case-insensitively and decodes them.
 */
const NOT_A_TARGET = /^\/(sign-in|sign-up)(\/|$|\?|#)/i;

/* eslint-disable no-control-regex -- control characters are exactly what these refuse */
const FORBIDDEN_RAW = /[\\\s\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff]/u;
const FORBIDDEN_DECODED = /[\\\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff]/u;
/* eslint-enable no-control-regex */

/** One decoding step, or null for a malformed escape (never guessed at). */
function decodeOnce(value: string): string | null {
  try {
    return decodeURIComponent(value);
  } catch {
    return null;
  }
}

/**
 * Starts with exactly one "/" and holds nothing a browser would treat as a scheme, host or escape:
 * no backslash (browsers read "\\" as "/"), no control character (URL parsers strip tabs and
 * newlines, so "/\t/evil" is "//evil"). A plain space is allowed only once decoded ("%20").
 */
function looksLocal(value: string, allowSpace: boolean): boolean {
  if (!value.startsWith("/")) return false;
  if (value[1] === "/" || value[1] === "\\") return false;
  const forbidden = allowSpace ? FORBIDDEN_DECODED : FORBIDDEN_RAW;
  return !forbidden.test(value);
}

/**
 * `value` and each of its percent-decodings (a router or server may decode again) look local and
 * none is a sign-in or sign-up page.
 */
function everyLayerLooksLocal(value: string): boolean {
  if (!looksLocal(value, false) || NOT_A_TARGET.test(value)) return false;
  let layer = value;
  for (let i = 0; i < 4; i++) {
    const next = decodeOnce(layer);
    if (next === null || !looksLocal(next, true) || NOT_A_TARGET.test(next)) return false;
    if (next === layer) break;
    layer = next;
  }
  return true;
}

/** The validated same-origin path, or null when `raw` is missing or not one. */
export function safeReturnTo(raw: string | null | undefined): string | null {
  if (typeof raw !== "string" || raw.length === 0 || raw.length > MAX_LENGTH) return null;
  // "/%2F%2Fevil" or "/%5Cevil" decode to another origin.
  if (!everyLayerLooksLocal(raw)) return null;
  // The browser's own parser must agree it stays on this origin.
  let url: URL;
  try {
    url = new URL(raw, PROBE_ORIGIN);
  } catch {
    return null;
  }
  if (url.origin !== PROBE_ORIGIN) return null;
  // And what it normalizes to must pass too: "/.//evil" resolves to the path "//evil".
  const path = `${url.pathname}${url.search}${url.hash}`;
  if (!everyLayerLooksLocal(path)) return null;
  return path;
}

/** The return target of the current location's query string (`?redirect_url=`), validated. */
export function returnToFrom(search: string): string | null {
  return safeReturnTo(new URLSearchParams(search).get(RETURN_PARAM));
}

/** `base` with the (already validated) return target attached, or `base` alone without one. */
export function withReturnTo(base: string, target: string | null): string {
  return target === null ? base : `${base}?${RETURN_PARAM}=${encodeURIComponent(target)}`;
}
