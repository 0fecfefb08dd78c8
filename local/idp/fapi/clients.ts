import { createHash, randomBytes } from "node:crypto";
import { newId } from "../ids.ts";
import type { Store } from "../store.ts";
import type { ClientRecord } from "./clientRecord.ts";
import { CLIENT_COOKIE_MAX_AGE_SECONDS } from "./cookies.ts";

/** At most this many clients are kept; beyond it the least recently changed are forgotten. */
export const MAX_CLIENTS = 10_000;

const hash = (token: string) => createHash("sha256").update(token).digest("hex");

/**
 * Frontend API clients, found by the `__client` cookie. The cookie's value is a random secret of
 * its own (not the client id, which clerk-js shows to page scripts in every response), stored
 * only as a hash. Every change is committed to `state.json`; clients expire with their cookie.
 */
export class Clients {
  private readonly byHash = new Map<string, string>();

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
  ) {
    for (const client of store.state.clients.values()) this.byHash.set(client.tokenHash, client.id);
  }

  /** The client the cookie names, if it exists and has not expired. */
  find(cookieToken: string | undefined): ClientRecord | undefined {
    if (!cookieToken) return undefined;
    const id = this.byHash.get(hash(cookieToken));
    const client = id === undefined ? undefined : this.store.state.clients.get(id);
    if (!client) return undefined;
    if (client.expireAt <= this.now()) {
      this.remove(client);
      return undefined;
    }
    return client;
  }

  /** A new, empty client and the cookie value that names it (committed by the first `update`). */
  create(): { client: ClientRecord; cookieToken: string } {
    const cookieToken = randomBytes(32).toString("base64url");
    const now = this.now();
    const client: ClientRecord = {
      id: newId("client"),
      tokenHash: hash(cookieToken),
      sessionIds: [],
      lastActiveSessionId: null,
      signIn: null,
      signUp: null,
      createdAt: now,
      updatedAt: now,
      expireAt: now + CLIENT_COOKIE_MAX_AGE_SECONDS * 1000,
    };
    return { client, cookieToken };
  }

  /** Applies a change to the client (new or known) and persists it; its cookie lifetime restarts. */
  update<T>(client: ClientRecord, change: (client: ClientRecord) => T): T {
    return this.store.commit((state) => {
      const result = change(client);
      const now = this.now();
      client.updatedAt = Math.max(now, client.updatedAt);
      client.expireAt = now + CLIENT_COOKIE_MAX_AGE_SECONDS * 1000;
      state.clients.delete(client.id); // re-inserted last: Map order is recency order
      state.clients.set(client.id, client);
      this.byHash.set(client.tokenHash, client.id);
      this.evict(state.clients);
      return result;
    });
  }

  /** Forgets the client (its cookie then names nothing). */
  remove(client: ClientRecord): void {
    this.byHash.delete(client.tokenHash);
    if (this.store.state.clients.has(client.id)) {
      this.store.commit((state) => state.clients.delete(client.id));
    }
  }

  private evict(clients: Map<string, ClientRecord>): void {
    const now = this.now();
    for (const client of clients.values()) {
      if (clients.size <= MAX_CLIENTS && client.expireAt > now) break;
      clients.delete(client.id);
      this.byHash.delete(client.tokenHash);
    }
  }
}
