/** How the webhook endpoint answers svix (convex/http.ts; the status rules are ADR 005's). */
import type { z } from "zod";

export const json = (status: number, body: Record<string, unknown>) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

/** 400 with the fields that failed: signed, but not an event these rules can apply. */
export function malformed(error: z.ZodError): Response {
  const issues = error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
  return json(400, { error: "malformed event", issues });
}

/** 200 with the outcome once the mutation committed; 500 (svix retries) if it failed. */
export async function applied(type: string, id: string, svixId: string, apply: () => Promise<string>) {
  try {
    const outcome = await apply();
    console.log(`Clerk ${type} ${id} (${svixId}): ${outcome}`);
    return json(200, { outcome });
  } catch (error) {
    console.error(`Clerk ${type} (${svixId}) failed; svix will retry`, error);
    return json(500, { error: "internal error" });
  }
}
