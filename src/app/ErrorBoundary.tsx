import { useClerk } from "@clerk/clerk-react";
import { useConvexAuth } from "convex/react";
import { Component, useEffect, type ErrorInfo, type ReactNode } from "react";
import { errorCode, errorMessage } from "../lib/errors";

/** Catches errors thrown by queries during render (e.g. a deleted account) and says what happened. */
export class ErrorBoundary extends Component<{ children: ReactNode }, { error: unknown }> {
  override state = { error: null as unknown };

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
      return <EndSession message={errorMessage(this.state.error)} />;
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
 */
function EndSession({ message }: { message: string }) {
  const clerk = useClerk();
  const { isAuthenticated } = useConvexAuth();
  useEffect(() => {
    if (isAuthenticated) void clerk.signOut().catch(() => undefined);
  }, [clerk, isAuthenticated]);
  return (
    <section className="card" role="alert">
      <h1>Signed out</h1>
      <p>{message}</p>
    </section>
  );
}
