import { useEffect, useState } from "react";

const DAY_MS = 24 * 60 * 60 * 1000;

/** "YYYY-MM-DD" of `now` in UTC: the day insights' ranges end on (convex/insights.ts `today`). */
export function utcDay(now: number): string {
  return new Date(now).toISOString().slice(0, 10);
}

/**
 * Today's UTC day, re-rendering at each UTC midnight. Passed to `insights.overview` as `today`,
 * it changes the query's arguments at midnight, so an open page's range moves on by itself
 * (a cached query result would otherwise keep yesterday's range).
 */
export function useUtcDay(): string {
  const [day, setDay] = useState(() => utcDay(Date.now()));
  useEffect(() => {
    const now = Date.now();
    // A few ms past midnight, so the new day is certainly "today" when the timer fires.
    const wait = DAY_MS - (now % DAY_MS) + 5;
    const timer = setTimeout(() => setDay(utcDay(Date.now())), wait);
    return () => clearTimeout(timer);
  }, [day]);
  return day;
}
