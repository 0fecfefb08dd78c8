/** Clerk metadata: arbitrary JSON objects on a user. */
export type Metadata = Record<string, unknown>;

function isPlainObject(value: unknown): value is Metadata {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Clerk's PATCH /v1/users/{id}/metadata semantics: nested objects merge key by key, `null`
 * removes a key at any depth, anything else (arrays included) replaces. Returns a new object.
 */
export function deepMerge(base: Metadata, patch: Metadata): Metadata {
  const out: Metadata = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete out[key];
    } else if (isPlainObject(value)) {
      const current = out[key];
      setOwn(out, key, deepMerge(isPlainObject(current) ? current : {}, value));
    } else {
      setOwn(out, key, value);
    }
  }
  return out;
}

/** Assignment that treats a JSON key `__proto__` as data, not as the object's prototype. */
function setOwn(target: Metadata, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * The `metadata` session-token claim: role, plan and an administrator's plan override from
 * **public** metadata only (unsafe metadata is user-writable in Clerk, so it never grants
 * anything), with the app's defaults. Production's template passes all of public metadata
 * (`{{user.public_metadata}}`); these are the keys Gatehouse reads (ADR 009). Values are passed
 * through as strings; the backend validates them.
 */
export function tokenMetadata(publicMetadata: Metadata): {
  role: string;
  plan: string;
  planOverride?: string;
} {
  const { role, plan, planOverride } = publicMetadata;
  return {
    role: typeof role === "string" ? role : "user",
    plan: typeof plan === "string" ? plan : "free_user",
    ...(typeof planOverride === "string" ? { planOverride } : {}),
  };
}
