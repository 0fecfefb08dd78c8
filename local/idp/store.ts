import { join } from "node:path";
import { z } from "zod";
import { newId } from "./ids.ts";
import { readJsonFile, writeJsonFileAtomic } from "./jsonFile.ts";
import type { PasswordHash } from "./passwords.ts";
import { withCurrentFields, type UserJson } from "./users.ts";
import type { ClientRecord } from "./fapi/clientRecord.ts";
import type { CodeVerification } from "./fapi/codes.ts";
import type { PayerRecord } from "./billing/model.ts";
import type { BillingEventType } from "./billing/events.ts";

export interface Session {
  id: string;
  userId: string;
  createdAt: number;
  /** Clerk's default session lifetime is 7 days; after it the session mints no tokens. */
  expireAt: number;
}

export type UserEventType = "user.created" | "user.updated" | "user.deleted";
export type WebhookEventType = UserEventType | BillingEventType;

/** The code last mailed to verify an email address a user added (by the address's id). */
export interface EmailCode {
  userId: string;
  verification: CodeVerification;
}

/** A user's uploaded profile image; its bytes are `images/<id>` in the data dir (`images.ts`). */
export interface ProfileImage {
  id: string;
  userId: string;
  /** The type its magic bytes showed (`image/png`, …), the only one it is served as. */
  contentType: string;
  /** The file name the browser gave, for Clerk's `ImageJSON.name` only (never a path). */
  name: string;
  size: number;
  createdAt: number;
}

/**
 * A webhook message waiting for delivery. `payload` is the exact body, identical on every retry.
 * `userId` is its delivery lane: a user's `user.*` and billing events go out in one order.
 */
export interface OutboxMessage {
  id: string;
  type: WebhookEventType;
  userId: string;
  payload: string;
  attempts: number;
  createdAt: number;
}

/**
 * Everything the IdP knows, in memory as Maps (ids come from URLs, and a plain object would
 * answer `users["constructor"]`), on disk as one JSON file. The outbox lives in the same file
 * as the users: a change and its webhook are written by one atomic rename, so a crash can
 * neither lose the event of a saved change nor send one for a change that was not saved.
 */
export interface IdpState {
  instanceId: string;
  users: Map<string, UserJson>;
  passwords: Map<string, PasswordHash>;
  sessions: Map<string, Session>;
  /** Frontend API clients (one per browser, found by the `__client` cookie). */
  clients: Map<string, ClientRecord>;
  /** Pending verifications of added email addresses, by email address id. */
  emailCodes: Map<string, EmailCode>;
  /** Uploaded profile images, by user id (a user has at most one). */
  profileImages: Map<string, ProfileImage>;
  /** Clerk Billing: each user's payer (subscription, items, charges), by user id (`billing/`). */
  billing: Map<string, PayerRecord>;
  outbox: OutboxMessage[];
}

// The file is ours; the check guards against a stale or foreign file, not against tampering.
const stateFile = z.object({
  version: z.literal(1),
  instanceId: z.string(),
  users: z.array(z.custom<UserJson>((u) => typeof u === "object" && u !== null && "id" in u)),
  passwords: z.array(
    z.tuple([z.string(), z.custom<PasswordHash>((p) => typeof p === "object" && p !== null)]),
  ),
  sessions: z.array(z.custom<Session>((s) => typeof s === "object" && s !== null && "id" in s)),
  outbox: z.array(z.custom<OutboxMessage>((m) => typeof m === "object" && m !== null && "payload" in m)),
  // Absent in files written before the Frontend API existed.
  clients: z
    .array(z.custom<ClientRecord>((c) => typeof c === "object" && c !== null && "tokenHash" in c))
    .default([]),
  // Absent in files written before the profile's email addresses and images existed.
  emailCodes: z
    .array(z.tuple([z.string(), z.custom<EmailCode>((c) => typeof c === "object" && c !== null)]))
    .default([]),
  profileImages: z
    .array(z.custom<ProfileImage>((i) => typeof i === "object" && i !== null && "userId" in i))
    .default([]),
  // Absent in files written before billing existed: those users get a payer at start (billing/billing.ts).
  billing: z
    .array(z.custom<PayerRecord>((p) => typeof p === "object" && p !== null && "payerId" in p))
    .default([]),
});

export class Store {
  readonly state: IdpState;
  private readonly path: string;
  private readonly listeners: Array<() => void> = [];

  private constructor(path: string, state: IdpState) {
    this.path = path;
    this.state = state;
  }

  /** Loads the data dir's state (or starts empty) and drops sessions that have expired. */
  static open(dataDir: string, now: number): Store {
    const path = join(dataDir, "state.json");
    const raw = readJsonFile(path);
    if (raw === undefined) {
      const store = new Store(path, {
        instanceId: newId("ins"),
        users: new Map(),
        passwords: new Map(),
        sessions: new Map(),
        clients: new Map(),
        emailCodes: new Map(),
        profileImages: new Map(),
        billing: new Map(),
        outbox: [],
      });
      store.save();
      return store;
    }
    const parsed = stateFile.safeParse(raw);
    if (!parsed.success) throw new Error(`${path} is not IdP state; start with --reset to wipe it`);
    const file = parsed.data;
    return new Store(path, {
      instanceId: file.instanceId,
      users: new Map(file.users.map((u) => [u.id, withCurrentFields(u)])),
      passwords: new Map(file.passwords),
      sessions: new Map(file.sessions.filter((s) => s.expireAt > now).map((s) => [s.id, s])),
      clients: new Map(file.clients.filter((c) => c.expireAt > now).map((c) => [c.id, c])),
      emailCodes: new Map(file.emailCodes),
      profileImages: new Map(file.profileImages.map((i) => [i.userId, i])),
      billing: new Map(file.billing.map((p) => [p.userId, p])),
      outbox: file.outbox,
    });
  }

  /**
   * Runs a synchronous change against the state and persists it before returning, then tells
   * listeners (the webhook sender) that something was committed. If the write fails the
   * change is still in memory; the error reaches the caller as a 500 and the next commit retries.
   */
  commit<T>(change: (state: IdpState) => T): T {
    const result = change(this.state);
    this.save();
    for (const listener of this.listeners) listener();
    return result;
  }

  onCommit(listener: () => void): void {
    this.listeners.push(listener);
  }

  private save(): void {
    const { instanceId, users, passwords, sessions, clients, emailCodes, profileImages, billing, outbox } =
      this.state;
    writeJsonFileAtomic(this.path, {
      version: 1,
      instanceId,
      users: [...users.values()],
      passwords: [...passwords.entries()],
      sessions: [...sessions.values()],
      clients: [...clients.values()],
      emailCodes: [...emailCodes.entries()],
      profileImages: [...profileImages.values()],
      billing: [...billing.values()],
      outbox,
    });
  }
}
