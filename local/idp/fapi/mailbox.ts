import { newId } from "../ids.ts";
import type { Logger } from "../webhooks/delivery.ts";
import { CODE_LIFETIME_MS, newCode } from "./codes.ts";

/** At most this many messages are kept; beyond it the oldest are dropped. */
export const MAX_MAILBOX_MESSAGES = 200;

export type MailPurpose = "sign_up" | "sign_in" | "reset_password" | "verify_email";

const LABEL: Record<MailPurpose, string> = {
  sign_up: "sign-up verification",
  sign_in: "sign-in",
  reset_password: "password reset",
  verify_email: "email address verification",
};

export interface MailMessage {
  id: string;
  to: string;
  purpose: MailPurpose;
  code: string;
  createdAt: number;
  expireAt: number;
}

/**
 * The local dev mailbox: the emails the IdP "sends" (only codes), kept in memory (a restart
 * forgets them, as the codes' own expiry soon would), bounded, and logged as one line each so
 * `npm start` shows them. Read through `GET /v1/dev/mailbox` (the Backend API key, no CORS, not
 * behind the `/__clerk` prefix: neither a page nor another user's process can read codes).
 */
export class Mailbox {
  private readonly messages: MailMessage[] = [];

  constructor(
    private readonly now: () => number,
    private readonly logger: Logger,
    private readonly max = MAX_MAILBOX_MESSAGES,
  ) {}

  /** Sends a fresh code to `to`; returns the message (the caller keeps only the code's hash). */
  sendCode(to: string, purpose: MailPurpose): MailMessage {
    const createdAt = this.now();
    const message: MailMessage = {
      id: newId("mail"),
      to,
      purpose,
      code: newCode(),
      createdAt,
      expireAt: createdAt + CODE_LIFETIME_MS,
    };
    this.messages.push(message);
    if (this.messages.length > this.max) this.messages.splice(0, this.messages.length - this.max);
    this.logger.info(`[idp] email code for ${to}: ${message.code} (${LABEL[purpose]})`);
    return message;
  }

  /** Messages, newest first; only those to `email` (case-insensitive) when given. */
  list(email?: string): MailMessage[] {
    const wanted = email?.toLowerCase();
    return this.messages.filter((m) => wanted === undefined || m.to.toLowerCase() === wanted).reverse();
  }
}
