import { Webhook } from "svix";

export interface SvixHeaders {
  "svix-id": string;
  "svix-timestamp": string;
  "svix-signature": string;
}

/**
 * Signs one delivery attempt with the real svix library, so the bytes match what Clerk (via
 * svix) sends: `v1,` + base64 HMAC-SHA256 over `${msgId}.${seconds}.${payload}` keyed with the
 * base64-decoded secret. `svix-timestamp` and the signature come from the same `Date`.
 */
export type Signer = (msgId: string, at: Date, payload: string) => SvixHeaders;

export function createSigner(secret: string): Signer {
  const webhook = new Webhook(secret); // throws on a malformed secret, at start-up rather than per send
  return (msgId, at, payload) => ({
    "svix-id": msgId,
    "svix-timestamp": String(Math.floor(at.getTime() / 1000)),
    "svix-signature": webhook.sign(msgId, at, payload),
  });
}
