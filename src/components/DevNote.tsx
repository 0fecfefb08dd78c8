import type { ReactNode } from "react";
import "./devNote.css";

/**
 * A developer-only note (the offline stack's seeded accounts, its billing emulation): dashed,
 * tinted and labelled "Local development", set apart from the product's own copy.
 */
export function DevNote({ id, title, children }: { id: string; title: string; children: ReactNode }) {
  return (
    <aside className="dev-hints" aria-labelledby={id}>
      <h2 id={id}>
        <span className="dev-tag">Local development</span> {title}
      </h2>
      {children}
    </aside>
  );
}
