import { SEEDED_ACCOUNTS, SEEDED_PASSWORD } from "./seededAccounts";

/**
 * Offline only (`npm start` sets VITE_CLERK_JS_URL; production does not): the seeded accounts,
 * set apart from the product's own copy so nobody mistakes them for it.
 */
export function DevHints({
  localMode = Boolean(import.meta.env.VITE_CLERK_JS_URL),
}: {
  localMode?: boolean;
}) {
  if (!localMode) return null;
  return (
    <aside className="dev-hints" aria-labelledby="dev-hints-title">
      <h2 id="dev-hints-title">
        <span className="dev-tag">Local development</span> Seeded accounts
      </h2>
      <p>
        This stack runs offline. Sign in as any of these with the password <code>{SEEDED_PASSWORD}</code>;
        sign-up codes appear in the <code>npm start</code> log.
      </p>
      <ul>
        {SEEDED_ACCOUNTS.map(({ email, what }) => (
          <li key={email}>
            <code>{email}</code> — {what}
          </li>
        ))}
      </ul>
    </aside>
  );
}
