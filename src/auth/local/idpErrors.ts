/**
 * The sentence to show for a failed call to the local identity provider. Its errors are
 * Clerk-shaped, `{ errors: [{ code, message, long_message, meta }] }`: the long message says what
 * to do (for a 429, when to try again); a body of another shape falls back to the status.
 */
export function idpErrorMessage(status: number, body: unknown): string {
  const first = (body as { errors?: Array<{ message?: unknown; long_message?: unknown }> } | null)
    ?.errors?.[0];
  for (const text of [first?.long_message, first?.message]) {
    if (typeof text === "string" && text.trim() !== "") return text;
  }
  return `The identity provider answered HTTP ${status}.`;
}
