import { lazy, Suspense, type ReactNode } from "react";
import { LocalAuthProvider } from "../auth/local/LocalAuthProvider";
import { authMode } from "../lib/env";

// Clerk's SDK is loaded only in Clerk mode, so the offline build carries none of it.
const ClerkAuthProvider = lazy(() => import("../auth/clerk/ClerkAuthProvider"));

export function AuthProvider({ children }: { children: ReactNode }) {
  if (authMode === "local") return <LocalAuthProvider>{children}</LocalAuthProvider>;
  return (
    <Suspense fallback={<p className="muted center">Loading…</p>}>
      <ClerkAuthProvider>{children}</ClerkAuthProvider>
    </Suspense>
  );
}
