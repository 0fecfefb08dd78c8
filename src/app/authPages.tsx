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
function useReturnTargets(title: string) {
  usePageTitle(title);
  const next = returnToFrom(useLocation().search);
  // Signing up, from either page, still goes through onboarding, then on to the same target.
  return { signIn: next ?? "/", signUp: withReturnTo("/onboarding", next) };
}

export function SignInPage() {
  const to = useReturnTargets("Sign in");
  return (
    <div className="clerk-page">
      <SignIn
        routing="path"
        path="/sign-in"
        forceRedirectUrl={to.signIn}
        signUpForceRedirectUrl={to.signUp}
      />
    </div>
  );
}

export function SignUpPage() {
  const to = useReturnTargets("Sign up");
  return (
    <div className="clerk-page">
      <SignUp
        routing="path"
        path="/sign-up"
        forceRedirectUrl={to.signUp}
        signInForceRedirectUrl={to.signIn}
      />
    </div>
  );
}
