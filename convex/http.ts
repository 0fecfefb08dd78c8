import { httpRouter } from "convex/server";
import { Webhook } from "svix";
import { internal } from "./_generated/api";
import { env, httpAction } from "./_generated/server";
import { applied, json, malformed } from "./lib/webhookResponses";
import { BILLING_EVENT_TYPES, billingEvent } from "./lib/billingEvents";
import { anyEvent, clerkUserEvent, HANDLED_EVENT_TYPES } from "./lib/clerkEvents";

/** Clerk's user and billing events are a few kB; anything near this is not one. */
const MAX_WEBHOOK_BYTES = 256 * 1024;

/**
 * Clerk → svix → here. 400 means "this request is not a valid Clerk event" and changes
 * nothing; 200 means processed (or a duplicate, stale or unknown event); 500 means we
 * failed internally and svix should retry. A 200 is sent only after the mutation committed.
 */
const clerkUsersWebhook = httpAction(async (ctx, request) => {
  const secret = env.CLERK_WEBHOOK_SECRET;
  if (!secret) {
    console.error("CLERK_WEBHOOK_SECRET is not set; refusing webhook");
    return json(500, { error: "webhook secret not configured" });
  }
  const declaredLength = Number(request.headers.get("content-length") ?? 0);
  if (declaredLength > MAX_WEBHOOK_BYTES) return json(413, { error: "payload too large" });
  const bytes = await request.arrayBuffer();
  if (bytes.byteLength > MAX_WEBHOOK_BYTES) return json(413, { error: "payload too large" });
  const body = new TextDecoder().decode(bytes);

  const svixHeaders = {
    "svix-id": request.headers.get("svix-id") ?? "",
    "svix-timestamp": request.headers.get("svix-timestamp") ?? "",
    "svix-signature": request.headers.get("svix-signature") ?? "",
  };
  if (Object.values(svixHeaders).some((h) => h === "")) {
    return json(400, { error: "missing svix headers" });
  }

  let verifier: Webhook;
  try {
    verifier = new Webhook(secret);
  } catch {
    console.error("CLERK_WEBHOOK_SECRET is not a valid svix secret; refusing webhook");
    return json(500, { error: "webhook secret misconfigured" });
  }
  let payload: unknown;
  try {
    // Verifies the raw bytes (never re-serialized JSON), the timestamp window and the signature.
    payload = verifier.verify(body, svixHeaders);
  } catch (error) {
    // svix parses the body after a good signature: a SyntaxError means signed, but not JSON.
    return json(400, { error: error instanceof SyntaxError ? "malformed event" : "invalid signature" });
  }

  const svixId = svixHeaders["svix-id"];
  const envelope = anyEvent.safeParse(payload);
  if (!envelope.success) return json(400, { error: "malformed event" });
  const type = envelope.data.type;
  if (BILLING_EVENT_TYPES.includes(type)) {
    const event = billingEvent.safeParse(payload);
    if (!event.success) return malformed(event.error);
    return await applied(type, event.data.data.id, svixId, () =>
      ctx.runMutation(internal.billing.applyBillingEvent, { svixId, event: event.data }),
    );
  }
  if (!(HANDLED_EVENT_TYPES as readonly string[]).includes(type)) {
    console.log(`Ignoring Clerk event ${type} (${svixId})`);
    return json(200, { outcome: "ignored" });
  }
  const event = clerkUserEvent.safeParse(payload);
  if (!event.success) return malformed(event.error);
  return await applied(type, event.data.data.id, svixId, () =>
    ctx.runMutation(internal.clerkWebhooks.applyUserEvent, {
      svixId,
      type: event.data.type,
      clerkId: event.data.data.id,
      user: event.data.type === "user.deleted" ? undefined : event.data.data,
    }),
  );
});

const http = httpRouter();
http.route({ path: "/clerk-users-webhook", method: "POST", handler: clerkUsersWebhook });
export default http;
