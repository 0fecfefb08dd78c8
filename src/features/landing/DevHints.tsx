import { DevNote } from "../../components/DevNote";
import { isLocalStack } from "../../lib/localStack";
import { SEEDED_ACCOUNTS, SEEDED_PASSWORD } from "./seededAccounts";

/** Offline only: the seeded accounts, set apart from the product's own copy. */
export function DevHints({ localMode = isLocalStack }: { localMode?: boolean }) {
  if (!localMode) return null;
  return (
    <DevNote id="dev-hints-title" title="Seeded accounts">
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
    </DevNote>
  );
}
