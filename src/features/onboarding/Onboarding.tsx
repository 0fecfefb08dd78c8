import { useUser } from "@clerk/clerk-react";
import { isClerkAPIResponseError } from "@clerk/clerk-react/errors";
import { useState, type FormEvent } from "react";
import { useLocation, useNavigate } from "react-router-dom";
import { useViewer } from "../../auth/useViewer";
import { FormError, SubmitButton } from "../../components/FormError";
import { usePageTitle } from "../../components/usePageTitle";
import { PLAN_LABEL } from "../../lib/plans";
import { returnToFrom } from "../../lib/returnTo";

/**
 * Where Clerk sends a new account after sign-up (the seed's afterSignUpUrl), carrying where the
 * visitor was going (`?redirect_url=`, validated again here) to continue there afterwards. The Convex row comes
 * from Clerk's webhook, which can lag the sign-up; `useViewer` creates it provisionally if late.
 * The display name is saved to Clerk, and comes back to Convex as a verified `user.updated`.
 */
export function Onboarding() {
  const viewer = useViewer();
  const { user } = useUser();
  const navigate = useNavigate();
  const { search } = useLocation();
  const next = returnToFrom(search);
  usePageTitle("Welcome");
  const [name, setName] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  if (!viewer || !user) {
    return (
      <section className="card narrow" role="status" aria-busy="true">
        <h1>Setting up your account…</h1>
        <p className="muted">This takes a moment after signing up.</p>
      </section>
    );
  }
  const value = name ?? user.firstName ?? "";
  async function save(event: FormEvent) {
    event.preventDefault();
    setSaving(true);
    setError(null);
    try {
      if (value.trim() !== (user!.firstName ?? "")) await user!.update({ firstName: value.trim() });
      void navigate(next ?? "/", { replace: true });
    } catch (e) {
      setError(clerkErrorMessage(e));
      setSaving(false);
    }
  }
  return (
    <section className="card narrow" aria-labelledby="onboarding-title">
      <h1 id="onboarding-title">Welcome to Gatehouse</h1>
      <p>
        You are on the <strong>{PLAN_LABEL[viewer.plan]}</strong> plan, signed in as{" "}
        <span className="email-address">{viewer.email}</span>.
      </p>
      <form className="stack" onSubmit={(event) => void save(event)}>
        <label>
          What should we call you?
          <input
            value={value}
            onChange={(e) => setName(e.target.value)}
            maxLength={100}
            autoComplete="given-name"
            autoFocus
          />
        </label>
        <FormError message={error} />
        <SubmitButton busy={saving} label={next ? "Continue" : "Continue to my posts"} busyLabel="Saving…" />
      </form>
    </section>
  );
}

/** Clerk's errors carry a readable `longMessage`; anything else gets a generic line. */
function clerkErrorMessage(error: unknown): string {
  if (!isClerkAPIResponseError(error)) return "Could not save your name. Try again.";
  const first = error.errors[0];
  return first?.longMessage ?? first?.message ?? "Could not save your name. Try again.";
}
