import { useQuery } from "convex/react";
import { api } from "../../../convex/_generated/api";

/** Pro only: statistics over the viewer's own posts, updating live. */
export default function Insights() {
  const data = useQuery(api.insights.overview, {});
  if (data === undefined) return <p className="muted">Loading…</p>;
  const max = Math.max(1, ...data.perDay.map((d) => d.count));
  return (
    <section aria-label="Insights">
      <h2>Insights</h2>
      <div className="stats">
        <Stat label="Posts" value={data.total} />
        <Stat label="Public" value={data.public} />
        <Stat label="Private" value={data.private} />
        <Stat label="Words" value={data.words} />
      </div>
      <h3>Posts per day</h3>
      {data.perDay.length === 0 ? (
        <p className="muted">No posts yet.</p>
      ) : (
        <ul className="bars">
          {data.perDay.map((d) => (
            <li key={d.day}>
              <span className="bar-label">{d.day}</span>
              <span className="bar" style={{ width: `${(d.count / max) * 100}%` }} />
              <span>{d.count}</span>
            </li>
          ))}
        </ul>
      )}
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
