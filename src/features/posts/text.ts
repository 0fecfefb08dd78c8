/**
 * How the server measures a post: the same functions (convex/lib/postText.ts). Characters are
 * code points, not UTF-16 units, and a title is measured after invisible characters and
 * surrounding spaces go.
 */
import { BODY_MAX, countCodePoints, normalizeTitle, TITLE_MAX } from "../../../convex/lib/postText";

export const titleLength = (title: string) => countCodePoints(normalizeTitle(title));
export const bodyLength = (body: string) => countCodePoints(body);

/** The server's own sentence for an over-long field, or null when both fit. */
export function lengthProblem(title: string, body: string): string | null {
  if (titleLength(title) > TITLE_MAX) return `Title must be at most ${TITLE_MAX} characters`;
  if (bodyLength(body) > BODY_MAX) return `Body must be at most ${BODY_MAX} characters`;
  return null;
}

/** A `datetime-local` value ("2026-12-01T14:30") for a time, in the browser's time zone. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A `datetime-local` value as milliseconds, or null when empty or unreadable. */
export function fromLocalInput(value: string): number | null {
  if (!value) return null;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? null : ms;
}

export function formatWhen(ms: number): string {
  return new Date(ms).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}
