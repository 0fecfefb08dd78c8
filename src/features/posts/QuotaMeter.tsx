/** "7 / 10 posts" with a bar, for a plan with a post quota. */
export function QuotaMeter({ used, limit }: { used: number; limit: number }) {
  const shown = Math.min(used, limit);
  const full = used >= limit;
  return (
    <div className={full ? "quota full" : "quota"}>
      <div className="quota-text">
        <span>Free plan</span>
        <strong>
          {shown} / {limit} posts
        </strong>
      </div>
      <div
        className="quota-bar"
        role="meter"
        aria-label="Posts used"
        aria-valuemin={0}
        aria-valuemax={limit}
        aria-valuenow={shown}
        aria-valuetext={`${shown} of ${limit} posts`}
      >
        <span style={{ width: `${(shown / limit) * 100}%` }} />
      </div>
    </div>
  );
}
