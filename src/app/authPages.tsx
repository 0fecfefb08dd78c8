import { SignIn, SignUp } from "@clerk/clerk-react";
import { useLocation } from "react-router-dom";
import { usePageTitle } from "../components/usePageTitle";
import { returnToFrom, withReturnTo } from "../lib/returnTo";

/**
 * Clerk's own sign-in and sign-up, sending people on to where they were going. The target comes
 * from `?redirect_url=` (what RequireSignedIn adds, and what Clerk's own links between the two
 * carry along), validated by `safeReturnTo`: only a path on this origin. It is passed as
 * `forceRedirectUrl`, which takes precedence over Clerk reading the query itself, so the
 * validator is the only judge of where a sign-in leads.
 */
export function SignInPage() {
  usePageTitle("Sign in");
  const next = returnToFrom(useLocation().search);
  return (
    <div className="clerk-page">
      <SignIn
        routing="path"
        path="/sign-in"
        forceRedirectUrl={next ?? "/"}
        // Signing up from here still goes through onboarding, then on to the same target.
        signUpForceRedirectUrl={withReturnTo("/onboarding", next)}
      />
    </div>
  );
}

export function SignUpPage() {
  usePageTitle("Sign up");
  const next = returnToFrom(useLocation().search);
  return (
    <div className="clerk-page">
      <SignUp
        routing="path"
        path="/sign-up"
        forceRedirectUrl={withReturnTo("/onboarding", next)}
        signInForceRedirectUrl={next ?? "/"}
      />
    </div>
  );
}
