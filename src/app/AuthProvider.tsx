import { ClerkProvider, useAuth } from "@clerk/clerk-react";
import { ConvexProviderWithClerk } from "convex/react-clerk";
import type { ComponentProps, ReactNode } from "react";
import { useNavigate } from "react-router-dom";
import { CLERK_JS_VERSION } from "../lib/clerkJs";
import { convex } from "../lib/convex";
import { env } from "../lib/env";
import { isLocalStack } from "../lib/localStack";

/**
 * Clerk's cards in Gatehouse's colours, font and corners (the card sits in Gatehouse's own page).
 * Only `variables`: Clerk derives hover, focus and muted shades from them.
 */
export const clerkAppearance = {
  variables: {
    colorPrimary: "#1f3a5f",
    colorForeground: "#1b2433",
    colorMutedForeground: "#5f6b7c",
    fontFamily: "inherit",
    fontSize: "1rem",
    borderRadius: "8px",
  },
} satisfies ComponentProps<typeof ClerkProvider>["appearance"];

/**
 * Offline, Clerk Billing is emulated without Stripe: checkout pays with the saved test cards, and
 * the two forms that enter a new card (they load Stripe.js from js.stripe.com) are not offered.
 */
const offlineBillingAppearance = {
  ...clerkAppearance,
  elements: {
    // The checkout's "Payment methods | Add payment method" switch (its only other use is a layout Gatehouse does not use).
    segmentedControlRoot: { display: "none" },
    // The profile's "Add new payment method" button.
    profileSectionPrimaryButton__paymentMethods: { display: "none" },
  },
} satisfies ComponentProps<typeof ClerkProvider>["appearance"];

/**
 * Clerk signs users in; Convex gets Clerk's `convex` token. The same path runs offline, where
 * `npm start` points clerk-js at a copy served by the dev server and its Frontend API calls at a
 * same-origin proxy to the local IdP (`proxyUrl`); production leaves both unset.
 */
export function AuthProvider({ children }: { children: ReactNode }) {
  const navigate = useNavigate();
  return (
    <ClerkProvider
      publishableKey={env.VITE_CLERK_PUBLISHABLE_KEY}
      clerkJSVersion={CLERK_JS_VERSION}
      clerkJSUrl={env.VITE_CLERK_JS_URL}
      appearance={isLocalStack ? offlineBillingAppearance : clerkAppearance}
      proxyUrl={env.VITE_CLERK_PROXY_URL}
      // Clerk's components navigate inside the SPA instead of reloading the page.
      routerPush={(to) => navigate(to)}
      routerReplace={(to) => navigate(to, { replace: true })}
      signInUrl="/sign-in"
      signUpUrl="/sign-up"
      // The seed's afterSignUpUrl="/onboarding", in clerk-react 5's spelling.
      signUpForceRedirectUrl="/onboarding"
      signInFallbackRedirectUrl="/"
      afterSignOutUrl="/sign-in"
      // Gatehouse sends no usage telemetry of its own users' browsers to anyone.
      telemetry={false}
    >
      <ConvexProviderWithClerk client={convex} useAuth={useAuth}>
        {children}
      </ConvexProviderWithClerk>
    </ClerkProvider>
  );
}
