import { ClerkProvider, SignIn, SignUp, useAuth, useClerk } from "@clerk/clerk-react";
import { ConvexProviderWithClerk } from "convex/react-clerk";
import { useMemo, type ReactNode } from "react";
import { convex } from "../../lib/convex";
import { env } from "../../lib/env";
import { AuthContext, type AuthFacade } from "../AuthContext";

function ClerkFacade({ children }: { children: ReactNode }) {
  const { isLoaded, isSignedIn } = useAuth();
  const clerk = useClerk();
  const facade = useMemo<AuthFacade>(
    () => ({
      mode: "clerk",
      isLoaded,
      isSignedIn: isSignedIn ?? false,
      signOut: () => clerk.signOut(),
      SignInView: () => <SignIn routing="path" path="/sign-in" signUpUrl="/sign-up" />,
      SignUpView: () => <SignUp routing="path" path="/sign-up" signInUrl="/sign-in" />,
    }),
    [isLoaded, isSignedIn, clerk],
  );
  return <AuthContext.Provider value={facade}>{children}</AuthContext.Provider>;
}

/** Production auth: Clerk signs users in; Convex gets Clerk's session token (aud "convex"). */
export default function ClerkAuthProvider({ children }: { children: ReactNode }) {
  return (
    <ClerkProvider publishableKey={env.VITE_CLERK_PUBLISHABLE_KEY!} afterSignOutUrl="/sign-in">
      <ConvexProviderWithClerk client={convex} useAuth={useAuth}>
        <ClerkFacade>{children}</ClerkFacade>
      </ConvexProviderWithClerk>
    </ClerkProvider>
  );
}
