/**
 * The bounds on one sync socket (limits.ts), so no client can make the backend buffer or queue
 * without limit:
 *
 * - client messages received and not finished (queued, or a mutation or action still running)
 *   are counted; at MAX_PENDING_MESSAGES the session closes the socket (`atCapacity`);
 * - reading pauses while unfinished input or our own unread output passes MAX_BUFFERED_BYTES, so
 *   TCP slows the sender down instead of our memory growing;
 * - the update loop waits while MAX_UNFLUSHED_TRANSITIONS Transitions are still unread.
 */
import type { WebSocket } from "ws";
import { MAX_BUFFERED_BYTES, MAX_PENDING_MESSAGES, MAX_UNFLUSHED_TRANSITIONS } from "./limits.ts";
import type { ServerMessage } from "./protocol.ts";

export class SocketFlow {
  private readonly ws: WebSocket;
  private readonly isClosed: () => boolean;
  // Client messages received and not finished (queued, or a mutation/action still running).
  private pendingMessages = 0;
  private pendingBytes = 0;
  // Our frames handed to the socket that have not been flushed to the client yet.
  private unflushedBytes = 0;
  private unflushedTransitions = 0;
  private flushWaiters: (() => void)[] = [];

  constructor(ws: WebSocket, isClosed: () => boolean) {
    this.ws = ws;
    this.isClosed = isClosed;
  }

  /** As many unfinished messages as Convex allows one socket: one more must close it. */
  get atCapacity(): boolean {
    return this.pendingMessages >= MAX_PENDING_MESSAGES;
  }

  /** Counts a received message as unfinished; the returned function finishes it (once). */
  admit(bytes: number): () => void {
    this.pendingMessages++;
    this.pendingBytes += bytes;
    this.updateReading();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.pendingMessages--;
      this.pendingBytes -= bytes;
      this.updateReading();
    };
  }

  /**
   * Stops reading from the socket while it holds too much (unfinished input, or output the client
   * has not read): TCP then slows the sender down instead of our memory growing.
   */
  private updateReading(): void {
    if (this.isClosed()) return;
    const full = this.pendingBytes > MAX_BUFFERED_BYTES || this.unflushedBytes > MAX_BUFFERED_BYTES;
    if (full && !this.ws.isPaused) this.ws.pause();
    else if (!full && this.ws.isPaused) this.ws.resume();
  }

  private wakeFlushWaiters(): void {
    for (const wake of this.flushWaiters.splice(0)) wake();
  }

  /** Resolves once fewer than MAX_UNFLUSHED_TRANSITIONS Transitions are unread (or the socket closed). */
  async transitionsFlushed(): Promise<void> {
    while (!this.isClosed() && this.unflushedTransitions >= MAX_UNFLUSHED_TRANSITIONS)
      await new Promise<void>((resolve) => this.flushWaiters.push(resolve));
  }

  /** Sends a frame, counting it as unread until the socket has taken it. */
  send(message: ServerMessage): void {
    if (this.isClosed() || this.ws.readyState !== this.ws.OPEN) return;
    const text = JSON.stringify(message);
    const bytes = Buffer.byteLength(text);
    const transition = message.type === "Transition";
    this.unflushedBytes += bytes;
    if (transition) this.unflushedTransitions++;
    // Called once the frame is handed to the kernel, or with an error if the socket died first.
    this.ws.send(text, () => {
      this.unflushedBytes -= bytes;
      if (transition) this.unflushedTransitions--;
      this.updateReading();
      this.wakeFlushWaiters();
    });
    this.updateReading();
  }

  /** The session closed: let the closing handshake be read, and wake whoever waits on a flush. */
  release(): void {
    if (this.ws.isPaused) this.ws.resume();
    this.wakeFlushWaiters();
  }
}
