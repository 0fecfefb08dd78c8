import { ConvexProviderWithAuth } from "convex/react";
import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from "react";
import { convex } from "../../lib/convex";
import { AuthContext, type AuthFacade } from "../AuthContext";
import { idp, IdpError, secondsLeft, type LocalSession } from "./idpClient";
import { LocalSignIn, LocalSignUp } from "./LocalSignIn";
import { LocalSessionContext } from "./session";

const STORAGE_KEY = "gatehouse.localSession";

function loadSession(): LocalSession | null {
  try {
    return JSON.parse(localStorage.getItem(STORAGE_KEY) ?? "null") as LocalSession | null;
  } catch {
    return null;
  }
}

type ConvexAuth = {
  isAuthenticated: boolean;
  fetchAccessToken: (a: { forceRefreshToken: boolean }) => Promise<string | null>;
};
const ConvexAuthContext = createContext<ConvexAuth>({
  isAuthenticated: false,
  fetchAccessToken: async () => null,
});

/** The `useAuth` ConvexProviderWithAuth calls: stable identity, values from context. */
function useLocalConvexAuth() {
  const { isAuthenticated, fetchAccessToken } = useContext(ConvexAuthContext);
  return useMemo(
    () => ({ isLoading: false, isAuthenticated, fetchAccessToken }),
    [isAuthenticated, fetchAccessToken],
  );
}

/**
 * Offline stand-in for ClerkProvider: keeps the local IdP session, mints 60 s session tokens
 * on demand (as Clerk's getToken does), and gives Convex a Clerk-shaped auth hook.
 */
export function LocalAuthProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<LocalSession | null>(loadSession);
  const latestToken = useRef<string | null>(session?.token ?? null);

  const start = useCallback((next: LocalSession | null) => {
    if (next) localStorage.setItem(STORAGE_KEY, JSON.stringify(next));
    else localStorage.removeItem(STORAGE_KEY);
    latestToken.current = next?.token ?? null;
    setSession(next);
  }, []);

  const fetchAccessToken = useCallback(
    async ({ forceRefreshToken }: { forceRefreshToken: boolean }) => {
      if (!session) return null;
      const cached = latestToken.current;
      if (!forceRefreshToken && cached && secondsLeft(cached) > 15) return cached;
      try {
        const { token } = await idp.freshToken(session.sessionId);
        latestToken.current = token;
        localStorage.setItem(STORAGE_KEY, JSON.stringify({ ...session, token }));
        return token;
      } catch (error) {
        if (error instanceof IdpError && error.status === 401) start(null); // the session was ended
        return null;
      }
    },
    [session, start],
  );

  const convexAuth = useMemo(
    () => ({ isAuthenticated: session !== null, fetchAccessToken }),
    [session, fetchAccessToken],
  );

  const facade = useMemo<AuthFacade>(
    () => ({
      mode: "local",
      isLoaded: true,
      isSignedIn: session !== null,
      signOut: async () => {
        if (session) await idp.end(session.sessionId).catch(() => undefined);
        start(null);
      },
      SignInView: LocalSignIn,
      SignUpView: LocalSignUp,
    }),
    [session, start],
  );

  return (
    <LocalSessionContext.Provider value={start}>
      <AuthContext.Provider value={facade}>
        <ConvexAuthContext.Provider value={convexAuth}>
          <ConvexProviderWithAuth client={convex} useAuth={useLocalConvexAuth}>
            {children}
          </ConvexProviderWithAuth>
        </ConvexAuthContext.Provider>
      </AuthContext.Provider>
    </LocalSessionContext.Provider>
  );
}
