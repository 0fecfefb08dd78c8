import { useQuery } from "convex/react";
import { useState } from "react";
import { api } from "../../../convex/_generated/api";
import { Skeleton } from "../../components/Skeleton";
import { usePageTitle } from "../../components/usePageTitle";
import { fillDays } from "./chart";
import { PostsChart } from "./PostsChart";
import { useUtcDay } from "./useUtcDay";
import "./insights.css";

const RANGES = [7, 30, 90] as const;
type Range = (typeof RANGES)[number];

/** Pro only: statistics over the viewer's own posts, updating live. */
export default function Insights() {
  usePageTitle("Insights");
  const [days, setDays] = useState<Range>(30);
  const today = useUtcDay();
  const data = useQuery(api.insights.overview, { days, today });
  return (
    <div className="stack insights-page">
      <div className="insights-head">
        <h1>Insights</h1>
        <div className="range" role="group" aria-label="Range">
          {RANGES.map((r) => (
            <button key={r} type="button" aria-pressed={days === r} onClick={() => setDays(r)}>
              {r} days
            </button>
          ))}
        </div>
      </div>
      {data === undefined ? (
        <Skeleton lines={6} label="Loading insights" />
      ) : (
        <>
          <section aria-label="Totals" className="stats">
            <Stat label="Posts" value={data.total} />
            <Stat label="Public" value={data.public} />
            <Stat label="Private" value={data.private} />
            <Stat label="Words" value={data.words} />
          </section>
          <p className="muted last-post">
            {data.lastPostAt === undefined
              ? "You have not posted yet."
              : `Last post: ${new Date(data.lastPostAt).toLocaleString()}`}
          </p>
          <Split publicCount={data.public} privateCount={data.private} />
          <section aria-labelledby="per-day-heading" className="card">
            <h2 id="per-day-heading">Posts per day, last {days} days</h2>
            <PostsChart days={fillDays(data.perDay, data.from ?? data.perDay[0]?.day ?? "", data.to ?? "")} />
          </section>
        </>
      )}
    </div>
  );
}

function Split({ publicCount, privateCount }: { publicCount: number; privateCount: number }) {
  const total = publicCount + privateCount;
  const share = total === 0 ? 0 : Math.round((publicCount / total) * 100);
  return (
    <section aria-labelledby="split-heading" className="card">
      <h2 id="split-heading">Public and private</h2>
      <div
        className="split"
        role="img"
        aria-label={`${share}% public (${publicCount}), ${100 - share}% private (${privateCount})`}
      >
        <span className="split-public" style={{ width: `${share}%` }} />
      </div>
      <p className="muted">{total === 0 ? "No posts yet." : `${share}% public · ${100 - share}% private`}</p>
    </section>
  );
}

function Stat({ label, value }: { label: string; value: number }) {
  return (
    <div className="card stat">
      <div className="stat-value">{value.toLocaleString()}</div>
      <div className="muted">{label}</div>
    </div>
  );
}
