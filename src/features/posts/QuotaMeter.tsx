/**
 * "7 / 10 posts" with a bar, for a plan with a post quota. Someone back on Free after Pro may have
 * more posts than the quota: the text says how many they have, the bar stays full.
 */
export function QuotaMeter({ used, limit }: { used: number; limit: number }) {
  const shown = Math.min(used, limit);
  const full = used >= limit;
  return (
    <div className={full ? "quota full" : "quota"}>
      <div className="quota-text">
        <span>Free plan</span>
        <strong>
          {used > limit ? `${used} posts (Free includes ${limit})` : `${shown} / ${limit} posts`}
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
