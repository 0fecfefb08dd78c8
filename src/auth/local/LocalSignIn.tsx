import type { FormEvent } from "react";
import { Link, useNavigate } from "react-router-dom";
import { idp, IdpError } from "./idpClient";
import { useStartLocalSession } from "./session";
import { FormError, SubmitButton } from "../../components/FormError";
import { useServerCall } from "../../lib/useServerCall";

const SEEDED = ["admin@gatehouse.test", "pro@gatehouse.test", "free@gatehouse.test"];

const describeIdpError = (e: unknown) =>
  e instanceof IdpError && e.status === 401 ? "Wrong email or password." : (e as Error).message;

/** A form submit that calls the identity provider with the form's fields. */
function useSubmit(action: (form: FormData) => Promise<void>) {
  const { run, error, pending } = useServerCall(describeIdpError);
  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    void run(() => action(form));
  };
  return { error, busy: pending, onSubmit };
}

export function LocalSignIn() {
  const startSession = useStartLocalSession();
  const navigate = useNavigate();
  const { error, busy, onSubmit } = useSubmit(async (form) => {
    startSession(await idp.signIn(String(form.get("email")), String(form.get("password"))));
    navigate("/");
  });
  return (
    <form className="card auth-form" onSubmit={onSubmit} aria-label="Sign in">
      <h1>Sign in</h1>
      <label>
        Email
        <input name="email" type="email" autoComplete="username" required list="seeded-accounts" />
        <datalist id="seeded-accounts">
          {SEEDED.map((email) => (
            <option key={email} value={email} />
          ))}
        </datalist>
      </label>
      <label>
        Password
        <input name="password" type="password" autoComplete="current-password" required />
      </label>
      <FormError message={error} />
      <SubmitButton busy={busy} label="Sign in" busyLabel="Signing in…" />
      <p className="muted">
        Offline identity provider. Seeded accounts use the password <code>gatehouse-dev</code>. New here?{" "}
        <Link to="/sign-up">Create an account</Link>
      </p>
    </form>
  );
}

export function LocalSignUp() {
  const startSession = useStartLocalSession();
  const navigate = useNavigate();
  const { error, busy, onSubmit } = useSubmit(async (form) => {
    startSession(
      await idp.signUp({
        email: String(form.get("email")),
        password: String(form.get("password")),
        firstName: String(form.get("firstName") ?? "") || undefined,
        lastName: String(form.get("lastName") ?? "") || undefined,
      }),
    );
    navigate("/");
  });
  return (
    <form className="card auth-form" onSubmit={onSubmit} aria-label="Create account">
      <h1>Create an account</h1>
      <div className="row">
        <label>
          First name
          <input name="firstName" autoComplete="given-name" />
        </label>
        <label>
          Last name
          <input name="lastName" autoComplete="family-name" />
        </label>
      </div>
      <label>
        Email
        <input name="email" type="email" autoComplete="username" required />
      </label>
      <label>
        Password (at least 8 characters)
        <input name="password" type="password" autoComplete="new-password" minLength={8} required />
      </label>
      <FormError message={error} />
      <SubmitButton busy={busy} label="Create account" busyLabel="Creating…" />
      <p className="muted">
        Already have one? <Link to="/sign-in">Sign in</Link>
      </p>
    </form>
  );
}
