import { useAuth, useClerk } from "@clerk/clerk-react";
import { useConvexAuth } from "convex/react";
import { Component, useEffect, type ErrorInfo, type ReactNode } from "react";
import { errorCode, errorMessage } from "../lib/errors";

/** Catches errors thrown by queries during render (e.g. a deleted account) and says what happened. */
export class ErrorBoundary extends Component<{ children: ReactNode }, { error: unknown }> {
  override state = { error: null as unknown };
  /** Set once the page was rendered afresh after a sign-out: a second refusal keeps its card. */
  private renderedSignedOut = false;

  private readonly renderSignedOut = () => {
    if (this.renderedSignedOut) return;
    this.renderedSignedOut = true;
    this.setState({ error: null });
  };

  static getDerivedStateFromError(error: unknown) {
    return { error };
  }

  override componentDidCatch(error: unknown, info: ErrorInfo) {
    // The server refusing this identity is an outcome handled below, not a bug to report.
    if (errorCode(error) !== "UNAUTHENTICATED")
      console.error("Unhandled UI error", error, info.componentStack);
  }

  override render() {
    if (this.state.error === null) return this.props.children;
    if (errorCode(this.state.error) === "UNAUTHENTICATED") {
      return <EndSession message={errorMessage(this.state.error)} onSignedOut={this.renderSignedOut} />;
    }
    return (
      <section className="card" role="alert">
        <h1>Something went wrong</h1>
        <p>{errorMessage(this.state.error)}</p>
        <button onClick={() => this.setState({ error: null })}>Try again</button>
      </section>
    );
  }
}

/**
 * The server refused a token it accepted (Convex is authenticated): the account was deleted, here
 * or in another tab or device. End the Clerk session in this browser too, which signs out its other
 * tabs, rather than leaving a page that only shows errors until clerk-js's next session check.
 * Without a token Convex accepted (a refresh failed, the connection is down) the refusal says
 * nothing about the account, so the Clerk session is left alone.
 *
 * The session may end by another path first (another tab's broadcast, clerk-js's own session check),
 * and then `signOut()` finds no session and does not navigate. So once Clerk says this tab is signed
 * out, the page renders afresh, as signed out (the landing at /), instead of staying on this card.
 * The boundary does that once: a page refused again while signed out keeps the card rather than
 * render, throw and reset in a loop.
 */
function EndSession({ message, onSignedOut }: { message: string; onSignedOut: () => void }) {
  const clerk = useClerk();
  const { isLoaded, isSignedIn } = useAuth();
  const { isAuthenticated } = useConvexAuth();
  useEffect(() => {
    if (isAuthenticated) void clerk.signOut().catch(() => undefined);
  }, [clerk, isAuthenticated]);
  useEffect(() => {
    if (isLoaded && !isSignedIn) onSignedOut();
  }, [isLoaded, isSignedIn, onSignedOut]);
  return (
    <section className="card" role="alert">
      <h1>Signed out</h1>
      <p>{message}</p>
    </section>
  );
}
