import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app/App";
import { errorCode } from "./lib/errors";
import "./styles.css";

createRoot(document.getElementById("root")!, {
  // An error boundary that catches a typed refusal (e.g. a deleted account's queries) handles it;
  // everything else is reported as React does by default.
  onCaughtError: (error, info) => {
    if (errorCode(error) !== undefined) return;
    console.error(error, info.componentStack);
  },
}).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
