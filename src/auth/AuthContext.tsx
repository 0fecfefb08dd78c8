import { createContext, useContext, type ComponentType } from "react";

/** What the app needs from an identity provider, whichever one is behind it (Clerk or local). */
export type AuthFacade = {
  mode: "clerk" | "local";
  isLoaded: boolean;
  isSignedIn: boolean;
  signOut: () => Promise<void>;
  SignInView: ComponentType;
  SignUpView: ComponentType;
};

export const AuthContext = createContext<AuthFacade | null>(null);

export function useAuthFacade(): AuthFacade {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error("useAuthFacade must be used inside an auth provider");
  return auth;
}
