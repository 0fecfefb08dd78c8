/** Posts per day over a range, zero-filled, and the sentence a screen reader hears for the chart. */
export type DayCount = { day: string; count: number };

const DAY_MS = 24 * 60 * 60 * 1000;

/** Every UTC day from `from` to `to` (YYYY-MM-DD), with the counts given and 0 elsewhere. */
export function fillDays(perDay: DayCount[], from: string, to: string): DayCount[] {
  const counts = new Map(perDay.map((d) => [d.day, d.count]));
  const out: DayCount[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += DAY_MS) {
    const day = new Date(t).toISOString().slice(0, 10);
    out.push({ day, count: counts.get(day) ?? 0 });
  }
  return out;
}

export function formatDay(day: string): string {
  return new Date(`${day}T00:00:00Z`).toLocaleDateString("en", {
    month: "short",
    day: "numeric",
    timeZone: "UTC",
  });
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** "12 posts in the last 7 days, on 4 of them; the busiest day was Mar 14 with 5 posts." */
export function chartSummary(days: DayCount[]): string {
  const total = days.reduce((n, d) => n + d.count, 0);
  const range = `the last ${days.length} days`;
  if (total === 0) return `No posts in ${range}.`;
  const active = days.filter((d) => d.count > 0).length;
  const busiest = days.reduce((best, d) => (d.count > best.count ? d : best));
  return `${plural(total, "post")} in ${range}, on ${active} of them; the busiest day was ${formatDay(busiest.day)} with ${plural(busiest.count, "post")}.`;
}
