/**
 * A Frontend API path pattern. clerk-js calls `<proxyUrl>/v1/<path>`; offline the proxy is the page
 * origin's `/__clerk`, forwarded as is, so each route answers both `/v1/…` and `/__clerk/v1/…`.
 * `[^/]+` in `rest` captures an id.
 */
export function fapiPath(rest: string): RegExp {
  return new RegExp(`^(?:/__clerk)?/v1${rest}$`);
}

/** clerk-js's `locale` rides along on sign-in and sign-up; the emulation answers in English. */
export const LOCALE = "locale";
