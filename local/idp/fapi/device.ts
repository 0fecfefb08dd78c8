/**
 * What UserProfile's "Active devices" shows of a session's browser: `browser_name`,
 * `browser_version`, `is_mobile` (clerk-js prints "Chrome 150", "Desktop device" or "Mobile
 * device"). Read from the User-Agent of the session's touches; a rough read of the main
 * browsers, enough to tell two devices apart, never an error.
 */
export interface Device {
  browserName?: string;
  browserVersion?: string;
  isMobile: boolean;
}

/** Checked in order: Edge and Opera say "Chrome" too, Chrome says "Safari". */
const BROWSERS: Array<[name: string, pattern: RegExp]> = [
  ["Edge", /\bEdg(?:e|A|iOS)?\/(\d+)/],
  ["Opera", /\bOPR\/(\d+)/],
  ["Firefox", /\b(?:Firefox|FxiOS)\/(\d+)/],
  ["Chrome", /\b(?:HeadlessChrome|Chrome|Chromium|CriOS)\/(\d+)/],
  ["Safari", /\bVersion\/(\d+).*\bSafari\//],
];

/** The longest User-Agent read; real ones are a few hundred characters. */
const MAX_USER_AGENT = 512;

export function deviceFromUserAgent(userAgent: string | undefined): Device {
  const ua = (userAgent ?? "").slice(0, MAX_USER_AGENT);
  const isMobile = /\b(?:Mobi|Android|iPhone|iPad)\b/.test(ua);
  for (const [name, pattern] of BROWSERS) {
    const version = pattern.exec(ua)?.[1];
    if (version) return { browserName: name, browserVersion: version, isMobile };
  }
  return { isMobile };
}
