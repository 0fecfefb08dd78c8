import { newId } from "./ids.ts";
import type { ImageFiles } from "./images.ts";
import type { SigningKey } from "./keys.ts";
import { deepMerge, type Metadata } from "./metadata.ts";
import { decoyHash, hashPassword, verifyPassword, type PasswordHash } from "./passwords.ts";
import type { IdpState, ProfileImage, Session, Store } from "./store.ts";
import { SignInThrottle, type Refusal, type SignInLimits } from "./throttle.ts";
import { mintSessionToken } from "./tokens.ts";
import {
  changed,
  deletedUserJson,
  newUserJson,
  type DeletedUserJson,
  type MetadataField,
  type NewUser,
  type UserJson,
} from "./users.ts";
import type { Logger } from "./webhooks/delivery.ts";
import { userEventMessage, type UserEvent } from "./webhooks/events.ts";

const SESSION_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;

export interface AccountsOptions {
  store: Store;
  key: SigningKey;
  issuer: string;
  now: () => number;
  tokenLifetimeSeconds: number;
  /** False when no webhook URL is configured: then nothing would ever drain the outbox. */
  webhooksEnabled: () => boolean;
  /** Brute-force limits on sign-in; unset fields take DEFAULT_SIGN_IN_LIMITS. */
  signInLimits?: Partial<SignInLimits>;
  /** Where lockouts are reported. Default console. */
  logger?: Logger;
  /** Uploaded profile images, deleted with their user. */
  images?: ImageFiles;
  /** Clerk Billing: a user gets a payer when created and loses it when deleted, in the same commit. */
  billing?: BillingLifecycle;
}

/** What a user's creation and deletion do to billing (`billing/billing.ts`), inside their commit. */
export interface BillingLifecycle {
  userCreated(state: IdpState, user: UserJson): void;
  userDeleted(state: IdpState, userId: string): void;
}

export interface SignedIn {
  userId: string;
  sessionId: string;
  token: string;
}

/** A sign-in either starts a session, fails on the credentials, or is refused before they are checked. */
export type SignInOutcome =
  | { outcome: "signed_in"; signedIn: SignedIn }
  | { outcome: "bad_credentials" }
  | { outcome: "throttled"; refusal: Refusal };

export type PasswordCheck =
  { outcome: "ok" } | { outcome: "bad_credentials" } | { outcome: "throttled"; refusal: Refusal };

export type MetadataPatch = Partial<Record<MetadataField, Metadata | null>>;

/**
 * The IdP's one place for account rules, shared by the HTTP routes and the seeding: every
 * change of a user goes through `store.commit` together with its webhook message.
 */
export class Accounts {
  /** Failed sign-ins per email and per client; in memory only, so a restart forgets them. */
  readonly throttle: SignInThrottle;

  constructor(private readonly options: AccountsOptions) {
    void decoyHash(); // computed now, so the first sign-in with an unknown email is not the slow one
    this.throttle = new SignInThrottle(options.signInLimits, options.now, options.logger ?? console);
  }

  private get state(): IdpState {
    return this.options.store.state;
  }

  /**
   * The user with this verified email address, primary or not (Clerk signs in with any verified
   * address). Addresses added but not verified belong to nobody yet.
   */
  findByEmail(email: string): UserJson | undefined {
    const wanted = email.toLowerCase();
    for (const user of this.state.users.values()) {
      const has = user.email_addresses.some(
        (e) => e.verification.status === "verified" && e.email_address.toLowerCase() === wanted,
      );
      if (has) return user;
    }
    return undefined;
  }

  /**
   * Whether `userId` may not add this address: another user has it verified, or this user has
   * it already (verified or not).
   */
  emailTaken(email: string, userId: string): boolean {
    const wanted = email.toLowerCase();
    const own = this.state.users.get(userId)?.email_addresses ?? [];
    return !!this.findByEmail(wanted) || own.some((e) => e.email_address.toLowerCase() === wanted);
  }

  getUser(id: string): UserJson | undefined {
    return this.state.users.get(id);
  }

  /** The user's uploaded profile image, if any. */
  profileImage(userId: string): ProfileImage | undefined {
    return this.state.profileImages.get(userId);
  }

  allUsers(): UserJson[] {
    return [...this.state.users.values()];
  }

  /** Creates a user with a password and queues `user.created`; undefined if the email is taken. */
  async createUser(input: NewUser, password: string): Promise<UserJson | undefined> {
    if (this.findByEmail(input.email)) return undefined;
    const hash = await hashPassword(password);
    // Re-checked after the await: two sign-ups for one email may have raced through scrypt.
    return this.createUserWithHash(input, hash);
  }

  /** `createUser` with the password already hashed (a FAPI sign-up hashes it before the email is verified). */
  createUserWithHash(input: NewUser, hash: PasswordHash): UserJson | undefined {
    if (this.findByEmail(input.email)) return undefined;
    const user = newUserJson(input, this.options.issuer, this.options.now());
    return this.options.store.commit((state) => {
      state.users.set(user.id, user);
      state.passwords.set(user.id, hash);
      this.queue(state, { type: "user.created", data: user });
      this.options.billing?.userCreated(state, user);
      return user;
    });
  }

  /** Sign-up as the SPA does it: create the user, then start a session. */
  async signUp(input: NewUser, password: string, origin: string | undefined): Promise<SignedIn | undefined> {
    const user = await this.createUser(input, password);
    return user && this.startSession(user, origin);
  }

  /**
   * Checks the attempt against the brute-force limits first: a refused attempt never reaches the
   * password check, so during a lockout the right password is refused too. An unknown email and
   * a wrong password fail alike, after the same scrypt cost, and count against the same limits.
   * `client` is who is asking (`clientKey(remoteAddress)`); a success clears the email's failures.
   */
  async signIn(
    email: string,
    password: string,
    origin: string | undefined,
    client: string,
  ): Promise<SignInOutcome> {
    const admission = this.throttle.admit(email, client);
    if (!admission.admitted) return { outcome: "throttled", refusal: admission.refusal };
    const { attempt } = admission;
    let signedIn: SignedIn | undefined;
    try {
      const user = this.findByEmail(email);
      const stored = user && this.state.passwords.get(user.id);
      const ok = await verifyPassword(password, stored ?? (await decoyHash()));
      // The user may have been deleted while scrypt ran.
      if (ok && user && this.state.users.has(user.id)) signedIn = await this.startSession(user, origin);
    } finally {
      // An error (a failed state write) settles the attempt as a failure: it was no sign-in.
      if (signedIn) attempt.succeeded();
      else attempt.failed();
    }
    return signedIn ? { outcome: "signed_in", signedIn } : { outcome: "bad_credentials" };
  }

  /**
   * Checks a signed-in user's current password (a password change) through the limits of a
   * sign-in with their primary email: a wrong one is a failed attempt, a lockout refuses it too.
   */
  async checkPassword(userId: string, password: string, client: string): Promise<PasswordCheck> {
    const user = this.state.users.get(userId);
    const email = user?.email_addresses.find((e) => e.id === user.primary_email_address_id)?.email_address;
    const admission = this.throttle.admit(email ?? userId, client);
    if (!admission.admitted) return { outcome: "throttled", refusal: admission.refusal };
    const stored = this.state.passwords.get(userId);
    let ok = false;
    try {
      ok = await verifyPassword(password, stored ?? (await decoyHash()));
    } finally {
      if (ok && stored) admission.attempt.succeeded();
      else admission.attempt.failed();
    }
    return ok && stored ? { outcome: "ok" } : { outcome: "bad_credentials" };
  }

  /** Starts a session for a user whose identity was proven another way (an email code); undefined if the user is gone. */
  async startSessionFor(userId: string, origin: string | undefined): Promise<SignedIn | undefined> {
    const user = this.state.users.get(userId);
    return user && this.startSession(user, origin);
  }

  /**
   * Sets a new password (a reset by email code, a change from the profile): `password_last_updated_at`
   * moves and `user.updated` is queued, as Clerk does. With `endSessions` every session of the user
   * ends but `keepSessionId` (the one that changed it).
   */
  async setPassword(
    userId: string,
    password: string,
    endSessions: boolean,
    keepSessionId?: string,
  ): Promise<UserJson | undefined> {
    if (!this.state.users.has(userId)) return undefined;
    const hash = await hashPassword(password);
    const user = this.state.users.get(userId); // the user may have been deleted while scrypt ran
    if (!user) return undefined;
    const now = this.options.now();
    const next = changed(user, { password_last_updated_at: now }, now);
    return this.options.store.commit((state) => {
      state.users.set(userId, next);
      state.passwords.set(userId, hash);
      if (endSessions) {
        for (const session of state.sessions.values()) {
          if (session.userId === userId && session.id !== keepSessionId) state.sessions.delete(session.id);
        }
      }
      this.queue(state, { type: "user.updated", data: next });
      return next;
    });
  }

  /** A session that can still mint tokens, with its user; undefined once ended, expired or its user is gone. */
  liveSession(sessionId: string): { session: Session; user: UserJson } | undefined {
    const session = this.state.sessions.get(sessionId);
    if (!session || session.expireAt <= this.options.now()) return undefined;
    const user = this.state.users.get(session.userId);
    return user && { session, user };
  }

  /** Live sessions of a user, oldest first. */
  userSessions(userId: string): Session[] {
    const now = this.options.now();
    return [...this.state.sessions.values()].filter((s) => s.userId === userId && s.expireAt > now);
  }

  /** A fresh token for a live session; undefined once it has ended, expired or its user is gone. */
  async mintToken(sessionId: string, origin: string | undefined): Promise<string | undefined> {
    const session = this.state.sessions.get(sessionId);
    if (!session || session.expireAt <= this.options.now()) return undefined;
    const user = this.state.users.get(session.userId);
    if (!user) return undefined;
    return this.token(user, session, origin);
  }

  /** Sign-out. Ending an unknown or ended session is not an error (sign-out is idempotent). */
  endSession(sessionId: string): void {
    if (!this.state.sessions.has(sessionId)) return;
    this.options.store.commit((state) => state.sessions.delete(sessionId));
  }

  /**
   * PATCH (merge: nested objects merge, null deletes) or PUT (replace each given field) of
   * metadata; queues `user.updated` with a strictly newer `updated_at`.
   */
  updateMetadata(id: string, patch: MetadataPatch, mode: "merge" | "replace"): UserJson | undefined {
    const user = this.state.users.get(id);
    if (!user) return undefined;
    const change: Partial<Record<MetadataField, Metadata>> = {};
    for (const field of ["public_metadata", "private_metadata", "unsafe_metadata"] as const) {
      const value = patch[field];
      if (value === undefined) continue;
      change[field] = mode === "merge" && value !== null ? deepMerge(user[field], value) : (value ?? {});
    }
    const next = changed(user, change, this.options.now());
    return this.options.store.commit((state) => {
      state.users.set(id, next);
      this.queue(state, { type: "user.updated", data: next });
      return next;
    });
  }

  /** PATCH /v1/users/{id}: the profile fields given (null clears one); queues `user.updated`. */
  updateProfile(
    id: string,
    change: Partial<Pick<UserJson, "first_name" | "last_name">>,
  ): UserJson | undefined {
    const user = this.state.users.get(id);
    if (!user) return undefined;
    const given = Object.fromEntries(Object.entries(change).filter(([, v]) => v !== undefined));
    const next = changed(user, given, this.options.now());
    return this.options.store.commit((state) => {
      state.users.set(id, next);
      this.queue(state, { type: "user.updated", data: next });
      return next;
    });
  }

  /**
   * Changes a user: `change` returns the fields to set (undefined: nothing to change), and
   * `alongside` may change other state in the same commit. `updated_at` moves and `user.updated`
   * is queued. Undefined if the user is gone or nothing changed.
   */
  changeUser(
    id: string,
    change: (user: UserJson) => Parameters<typeof changed>[1] | undefined,
    alongside?: (state: IdpState) => void,
  ): UserJson | undefined {
    const user = this.state.users.get(id);
    const fields = user && change(user);
    if (!user || !fields) return undefined;
    const next = changed(user, fields, this.options.now());
    return this.options.store.commit((state) => {
      state.users.set(id, next);
      alongside?.(state);
      this.queue(state, { type: "user.updated", data: next });
      return next;
    });
  }

  /** Deletes the user, ends all their sessions and queues `user.deleted`; their image and codes go too. */
  deleteUser(id: string): DeletedUserJson | undefined {
    const user = this.state.users.get(id);
    if (!user) return undefined;
    const deleted = deletedUserJson(id);
    const image = this.state.profileImages.get(id);
    const result = this.options.store.commit((state) => {
      state.users.delete(id);
      state.passwords.delete(id);
      for (const session of state.sessions.values()) {
        if (session.userId === id) state.sessions.delete(session.id);
      }
      for (const email of user.email_addresses) state.emailCodes.delete(email.id);
      state.profileImages.delete(id);
      this.options.billing?.userDeleted(state, id);
      this.queue(state, { type: "user.deleted", data: deleted });
      return deleted;
    });
    if (image) this.options.images?.remove(image.id);
    return result;
  }

  private async startSession(user: UserJson, origin: string | undefined): Promise<SignedIn> {
    const now = this.options.now();
    const session: Session = {
      id: newId("sess"),
      userId: user.id,
      createdAt: now,
      expireAt: now + SESSION_LIFETIME_MS,
    };
    this.options.store.commit((state) => state.sessions.set(session.id, session));
    return { userId: user.id, sessionId: session.id, token: await this.token(user, session, origin) };
  }

  private token(user: UserJson, session: Session, origin: string | undefined): Promise<string> {
    const { key, issuer, now, tokenLifetimeSeconds } = this.options;
    return mintSessionToken({
      key,
      issuer,
      user,
      session,
      authorizedParty: origin ?? issuer,
      nowMs: now(),
      lifetimeSeconds: tokenLifetimeSeconds,
    });
  }

  private queue(state: IdpState, event: UserEvent): void {
    if (!this.options.webhooksEnabled()) return;
    state.outbox.push(userEventMessage(event, state.instanceId, this.options.now()));
  }
}
