import { Component, type ErrorInfo, type ReactNode } from "react";
import { errorCode, errorMessage } from "../lib/errors";

/** Catches errors thrown by queries during render (e.g. a deleted account) and says what happened. */
export class ErrorBoundary extends Component<{ children: ReactNode }, { error: unknown }> {
  override state = { error: null as unknown };

  static getDerivedStateFromError(error: unknown) {
    return { error };
  }

  override componentDidCatch(error: unknown, info: ErrorInfo) {
    console.error("Unhandled UI error", error, info.componentStack);
  }

  override render() {
    if (this.state.error === null) return this.props.children;
    const code = errorCode(this.state.error);
    return (
      <section className="card" role="alert">
        <h2>{code === "UNAUTHENTICATED" ? "Signed out" : "Something went wrong"}</h2>
        <p>{errorMessage(this.state.error)}</p>
        <button onClick={() => this.setState({ error: null })}>Try again</button>
      </section>
    );
  }
}
