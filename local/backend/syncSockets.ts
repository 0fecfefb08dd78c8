/**
 * The sync protocol's WebSocket endpoint on the client port (`/api/<any version>/sync`,
 * `/api/sync`): upgrades are checked here, and each accepted socket becomes a SyncSession
 * (sync.ts). An upgrade that is refused gets a plain HTTP answer on the raw socket, before any
 * WebSocket exists: a non-loopback Host (403), an Origin the policy does not allow (403; CORS does
 * not cover WebSockets), a target that is not a URL (400), another path (404).
 */
import type http from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { MAX_WS_MESSAGE_BYTES } from "./limits.ts";
import { MutationLog } from "./mutationLog.ts";
import { parseRequestTarget } from "./protocol.ts";
import type { Serving } from "./routes.ts";
import { SyncSession, type SessionStats } from "./sync.ts";
import { isLoopbackHost } from "../loopback.ts";

/** Answers an upgrade request we do not accept and closes the raw socket. */
function refuseUpgrade(socket: Duplex, status: number, statusText: string): void {
  if (socket.destroyed) return;
  const body = `${status} ${statusText}`;
  socket.end(
    `HTTP/1.1 ${status} ${statusText}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

export class SyncSockets {
  /** Open sessions, one per socket. */
  readonly sessions = new Set<SyncSession>();
  readonly stats: SessionStats = { authErrors: 0, transitions: 0 };
  /** Shared by all sessions: a client resends its unanswered mutations on a new socket. */
  private readonly mutationLog = new MutationLog();
  private readonly serving: Serving;
  // A larger message is refused while its header is read (close 1009), never buffered; see limits.ts.
  private readonly wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: MAX_WS_MESSAGE_BYTES,
  });

  constructor(server: http.Server, serving: Serving) {
    this.serving = serving;
    server.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      // Node hands the raw socket over without an error listener: a client that resets it while
      // we answer would otherwise be an uncaught 'error' event (ws adds its own once it takes over).
      socket.on("error", () => socket.destroy());
      serving.ready
        .then(() => this.upgrade(req, socket, head))
        .catch((error: unknown) => {
          console.error("[local backend] WebSocket upgrade failed:", error);
          refuseUpgrade(socket, 500, "Internal Server Error");
        });
    });
  }

  private upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    if (!isLoopbackHost(req)) return refuseUpgrade(socket, 403, "Forbidden");
    // CORS does not apply to WebSockets: without this any web page could open a sync session.
    if (!this.serving.origins.allows(req.headers.origin)) return refuseUpgrade(socket, 403, "Forbidden");
    const target = parseRequestTarget(req.url ?? "/", this.serving.url);
    if (!target) return refuseUpgrade(socket, 400, "Bad Request");
    if (!/^\/api\/([^/]+\/)?sync$/.test(target.pathname)) return refuseUpgrade(socket, 404, "Not Found");
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const session = new SyncSession(ws, this.serving.runtime, this.mutationLog, this.stats);
      this.sessions.add(session);
      ws.on("close", () => this.sessions.delete(session));
    });
  }

  /** Query subscriptions over all sessions. */
  get subscriptionCount(): number {
    let subscriptions = 0;
    for (const s of this.sessions) subscriptions += s.subscriptionCount;
    return subscriptions;
  }

  /** Resolves when no session has an update in flight for two consecutive checks (10 ms apart). */
  async idle(): Promise<void> {
    let quietRounds = 0;
    while (quietRounds < 2) {
      await new Promise((r) => setTimeout(r, 10));
      const busy = [...this.sessions].some((s) => s.isUpdating);
      quietRounds = busy ? 0 : quietRounds + 1;
    }
  }

  /** Closes every session (1001, "server shutting down") and stops accepting sockets. */
  close(): void {
    for (const s of this.sessions) s.close();
    this.sessions.clear();
    this.wss.close();
  }
}
