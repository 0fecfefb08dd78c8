import { useId } from "react";
import { chartSummary, formatDay, type DayCount } from "./chart";

const W = 640;
const H = 200;
const PAD = { top: 12, right: 8, bottom: 24, left: 28 };

/**
 * Posts per day as plain SVG bars. The image is named by a one-sentence summary (role="img"),
 * and the same numbers are a table for whoever prefers one.
 */
export function PostsChart({ days, decorative = false }: { days: DayCount[]; decorative?: boolean }) {
  const id = useId();
  const summary = chartSummary(days);
  const max = Math.max(1, ...days.map((d) => d.count));
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const slot = innerW / Math.max(1, days.length);
  const bar = Math.max(1, slot * 0.7);
  const labelEvery = Math.ceil(days.length / 6);
  return (
    <figure className="posts-chart">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        {...(decorative ? { "aria-hidden": true } : { role: "img", "aria-labelledby": `${id}-title` })}
      >
        {!decorative && <title id={`${id}-title`}>{summary}</title>}
        <line className="axis" x1={PAD.left} x2={W - PAD.right} y1={H - PAD.bottom} y2={H - PAD.bottom} />
        <text className="tick" x={PAD.left - 6} y={PAD.top + 4} textAnchor="end">
          {max}
        </text>
        <text className="tick" x={PAD.left - 6} y={H - PAD.bottom} textAnchor="end">
          0
        </text>
        {days.map((d, i) => {
          const h = (d.count / max) * innerH;
          const x = PAD.left + i * slot + (slot - bar) / 2;
          return (
            <g key={d.day}>
              <rect
                className="chart-bar"
                x={x}
                y={H - PAD.bottom - h}
                width={bar}
                height={h}
                rx={Math.min(3, bar / 3)}
              >
                <title>{`${formatDay(d.day)}: ${d.count}`}</title>
              </rect>
              {i % labelEvery === 0 && (
                <text className="tick" x={x + bar / 2} y={H - 6} textAnchor="middle">
                  {formatDay(d.day)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      {!decorative && (
        <>
          <figcaption className="muted">{summary}</figcaption>
          <details className="chart-table">
            <summary>Show as a table</summary>
            <table>
              <thead>
                <tr>
                  <th scope="col">Day</th>
                  <th scope="col">Posts</th>
                </tr>
              </thead>
              <tbody>
                {days.map((d) => (
                  <tr key={d.day}>
                    <td>{formatDay(d.day)}</td>
                    <td>{d.count}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        </>
      )}
    </figure>
  );
}
