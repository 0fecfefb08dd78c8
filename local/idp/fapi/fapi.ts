import type { IncomingMessage } from "node:http";
import type { Accounts } from "../accounts.ts";
import { HttpError, type JsonResult } from "../http.ts";
import type { SigningKey } from "../keys.ts";
import type { Session, Store } from "../store.ts";
import type { UserJson } from "../users.ts";
import type { Logger } from "../webhooks/delivery.ts";
import { newId } from "../ids.ts";
import type { ImageFiles } from "../images.ts";
import type { Billing } from "../billing/billing.ts";
import type { ClientRecord } from "./clientRecord.ts";
import { Clients } from "./clients.ts";
import { clearedClientCookie, CLIENT_COOKIE, clientCookie, readCookie } from "./cookies.ts";
import {
  clientWire,
  sessionWire,
  signInWire,
  type ClientWire,
  type SessionWire,
  type SessionWireStatus,
} from "./json.ts";
import { CODE_LIFETIME_MS, codeHash, type CodeStrategy, type CodeVerification } from "./codes.ts";
import { deviceFromUserAgent, type Device } from "./device.ts";
import { Mailbox, type MailPurpose } from "./mailbox.ts";
import { mintDefaultToken, TEMPLATES, type FapiTokenInput } from "./tokens.ts";

export interface FapiOptions {
  accounts: Accounts;
  store: Store;
  key: SigningKey;
  issuer: string;
  now: () => number;
  tokenLifetimeSeconds: number;
  /** Where the mailbox logs the codes it "sends". */
  logger: Logger;
  /** Where uploaded profile images are kept. */
  images: ImageFiles;
  /** Clerk Billing: plans, subscriptions, checkouts; the `pla` / `fea` claims follow it. */
  billing: Billing;
}

/** The client a request belongs to; `setCookie` is set once a change to it has been saved. */
export interface RequestClient {
  client: ClientRecord;
  cookieToken: string;
  setCookie?: string;
}

/** The caller of a `/v1/me` route: its client and the session that route acts for. */
export interface SignedIn {
  rc: RequestClient;
  session: Session;
  user: UserJson;
}

/**
 * The Frontend API's state on top of the IdP's accounts: clients (by cookie), the sessions each
 * started, tokens. Routes (the other files of this folder) parse and answer; this holds the rules.
 */
export class Fapi {
  readonly clients: Clients;
  readonly mailbox: Mailbox;
  /** When each session was last touched (in memory: `last_active_at` only, not worth a write per focus). */
  private readonly touchedAt = new Map<string, number>();
  /** The browser each session was last touched from (in memory too: what "Active devices" shows). */
  private readonly devices = new Map<string, Device>();

  constructor(readonly options: FapiOptions) {
    this.clients = new Clients(options.store, options.now);
    this.mailbox = new Mailbox(options.now, options.logger);
  }

  /** Emails a fresh code; returns the verification that checks it (the code itself stays in the mailbox). */
  sendCode(
    to: string,
    purpose: MailPurpose,
    strategy: CodeStrategy,
    emailAddressId: string | null,
  ): CodeVerification {
    const message = this.mailbox.sendCode(to, purpose);
    return {
      id: newId("ver"),
      strategy,
      emailAddressId,
      codeHash: codeHash(message.code),
      attempts: 0,
      expireAt: message.createdAt + CODE_LIFETIME_MS,
      status: "unverified",
    };
  }

  get accounts(): Accounts {
    return this.options.accounts;
  }

  get billing(): Billing {
    return this.options.billing;
  }

  now(): number {
    return this.options.now();
  }

  /** The request's client, if its cookie names one. */
  findClient(req: IncomingMessage): ClientRecord | undefined {
    return this.clients.find(readCookie(req, CLIENT_COOKIE));
  }

  /** The request's client, or a new one, which exists only once a change to it is saved. */
  clientOrNew(req: IncomingMessage): RequestClient {
    return this.existingClient(req) ?? this.clients.create();
  }

  /** The request's client, if its cookie names one. */
  existingClient(req: IncomingMessage): RequestClient | undefined {
    const cookieToken = readCookie(req, CLIENT_COOKIE);
    const client = this.clients.find(cookieToken);
    return client && cookieToken ? { client, cookieToken } : undefined;
  }

  /** The request's client, or 401 `signed_out` (clerk-js then refetches the client and signs out). */
  requireClient(req: IncomingMessage): RequestClient {
    const rc = this.existingClient(req);
    if (!rc) throw signedOut();
    return rc;
  }

  /**
   * The caller of a `/v1/me` route: the request's client and the session it acts for
   * (`currentSession`); 401 `signed_out` without either.
   */
  signedIn(req: IncomingMessage, url: URL): SignedIn {
    const rc = this.requireClient(req);
    return { rc, ...this.currentSession(rc.client, url) };
  }

  /** Saves a change to the client and (re)sets its cookie, whose 30 days restart. */
  save<T>(rc: RequestClient, change: (client: ClientRecord) => T): T {
    const result = this.clients.update(rc.client, change);
    rc.setCookie = clientCookie(rc.cookieToken);
    return result;
  }

  /** The client's live sessions; ended or expired ones (a dev-API sign-out, a deleted user) drop out. */
  liveSessions(client: ClientRecord): Array<{ session: Session; user: UserJson }> {
    const live = client.sessionIds.flatMap((id) => this.accounts.liveSession(id) ?? []);
    if (live.length !== client.sessionIds.length) client.sessionIds = live.map((l) => l.session.id);
    return live;
  }

  /** One of the client's live sessions, or 401 `signed_out`. */
  clientSession(client: ClientRecord, sessionId: string): { session: Session; user: UserJson } {
    const found = this.liveSessions(client).find((l) => l.session.id === sessionId);
    if (!found) throw signedOut();
    return found;
  }

  /**
   * The session `/v1/me` acts for: `_clerk_session_id` if it is one of the client's live
   * sessions, else the client's last active one; 401 when signed out.
   */
  currentSession(client: ClientRecord, url: URL): { session: Session; user: UserJson } {
    const live = this.liveSessions(client);
    const wanted = url.searchParams.get("_clerk_session_id") ?? client.lastActiveSessionId;
    const found =
      live.find((l) => l.session.id === wanted) ??
      live.find((l) => l.session.id === client.lastActiveSessionId);
    if (!found) throw signedOut();
    return found;
  }

  /** Makes a new session the client's only one (single-session mode) and its active one. */
  adoptSession(client: ClientRecord, sessionId: string): void {
    for (const old of client.sessionIds) {
      if (old !== sessionId) this.endSession(old);
    }
    client.sessionIds = [sessionId];
    client.lastActiveSessionId = sessionId;
  }

  /** Ends a session everywhere (its tokens stop minting at once). */
  endSession(sessionId: string): void {
    this.accounts.endSession(sessionId);
    this.touchedAt.delete(sessionId);
    this.devices.delete(sessionId);
  }

  /** Signs the client out: every session of it ends, its sign-in and sign-up go; the client (and its cookie) stays. */
  signOutClient(rc: RequestClient): void {
    this.save(rc, (client) => {
      for (const id of client.sessionIds) this.endSession(id);
      client.sessionIds = [];
      client.lastActiveSessionId = null;
      client.signIn = null;
      client.signUp = null;
    });
  }

  /** Ends one session and drops it from the client (which then has no active session, if it was that). */
  removeSession(rc: RequestClient, sessionId: string): void {
    this.save(rc, (client) => {
      this.endSession(sessionId);
      client.sessionIds = client.sessionIds.filter((id) => id !== sessionId);
      if (client.lastActiveSessionId === sessionId) client.lastActiveSessionId = null;
    });
  }

  /** Marks the session active now; with a User-Agent, from that browser. */
  touch(sessionId: string, userAgent?: string): void {
    this.touchedAt.set(sessionId, this.now());
    if (userAgent !== undefined) this.devices.set(sessionId, deviceFromUserAgent(userAgent));
  }

  lastActiveAt(session: Session): number {
    return this.touchedAt.get(session.id) ?? session.createdAt;
  }

  /** The browser making this request. */
  deviceOf(req: IncomingMessage): Device {
    return deviceFromUserAgent(req.headers["user-agent"]);
  }

  /** The browser last seen using the session, if it was touched since the IdP started. */
  device(sessionId: string): Device | undefined {
    return this.devices.get(sessionId);
  }

  tokenInput(session: Session, user: UserJson, origin: string | undefined): FapiTokenInput {
    const { key, issuer, tokenLifetimeSeconds } = this.options;
    return {
      key,
      issuer,
      user,
      session,
      authorizedParty: origin ?? issuer,
      nowMs: this.now(),
      lifetimeSeconds: tokenLifetimeSeconds,
      // Read at minting: the next token after a checkout, cancel or period end has the new plan.
      billing: { plan: this.billing.planOf(user.id), features: this.billing.featuresOf(user.id) },
    };
  }

  defaultToken(session: Session, user: UserJson, origin: string | undefined): Promise<string> {
    return mintDefaultToken(this.tokenInput(session, user, origin));
  }

  templateToken(
    template: string,
    session: Session,
    user: UserJson,
    origin: string | undefined,
  ): Promise<string> {
    const mint = Object.prototype.hasOwnProperty.call(TEMPLATES, template) ? TEMPLATES[template] : undefined;
    if (!mint) {
      throw new HttpError(
        404,
        "resource_not_found",
        "not found",
        `No JWT template exists with name: ${template.slice(0, 64)}`,
      );
    }
    return mint(this.tokenInput(session, user, origin));
  }

  async sessionJson(
    session: Session,
    user: UserJson,
    origin: string | undefined,
    status: SessionWireStatus = "active",
  ): Promise<SessionWire> {
    const now = this.now();
    return sessionWire({
      session,
      user,
      status,
      lastActiveAt: this.lastActiveAt(session),
      token: status === "active" ? await this.defaultToken(session, user, origin) : null,
      now,
    });
  }

  async clientJson(client: ClientRecord, origin: string | undefined): Promise<ClientWire> {
    const sessions = await Promise.all(
      this.liveSessions(client).map(({ session, user }) => this.sessionJson(session, user, origin)),
    );
    const now = this.now();
    const signIn =
      client.signIn && signInWire(client.signIn, this.accounts.getUser(client.signIn.userId), now);
    return clientWire(client, sessions, signIn, now);
  }

  /** Clerk's envelope: the resource in `response`, the whole client piggybacked in `client`. */
  async respond(
    response: unknown,
    { client, setCookie }: RequestClient,
    origin: string | undefined,
    status = 200,
  ): Promise<JsonResult> {
    return {
      status,
      body: { response, client: await this.clientJson(client, origin) },
      headers: setCookie ? { "Set-Cookie": setCookie } : {},
    };
  }

  /** The envelope without a client (the cookie named none, or it was just deleted). */
  noClient(response: unknown, clearCookie: boolean): JsonResult {
    return {
      status: 200,
      body: { response, client: null },
      headers: clearCookie ? { "Set-Cookie": clearedClientCookie() } : {},
    };
  }
}

export function signedOut(): HttpError {
  return new HttpError(401, "signed_out", "Signed out", "You are signed out. Sign in again.");
}
