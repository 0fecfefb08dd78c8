/**
 * A WebSocket relay between ConvexClients and the backend, to control what the client hears:
 * with `holdDownstream` on, the client's messages still reach the backend but the backend's
 * answers are swallowed (the MutationResponse of a committed mutation never arrives, as when
 * the server dies right after its commit). When the backend goes away, each client's socket is
 * closed too, so the client reconnects (through the relay) as it would to the backend itself.
 */
import type { AddressInfo } from "node:net";
import WebSocket, { WebSocketServer, type RawData } from "ws";

export class WsProxy {
  url = "";
  holdDownstream = false;
  /** Types of the backend messages seen (forwarded or swallowed), in order. */
  readonly upstreamTypes: string[] = [];
  private readonly server: WebSocketServer;

  private constructor(private readonly target: string) {
    this.server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    this.server.on("connection", (client, req) => this.relay(client, req.url ?? "/"));
  }

  static async start(backendUrl: string): Promise<WsProxy> {
    const proxy = new WsProxy(backendUrl.replace(/^http/, "ws"));
    await new Promise<void>((r) => proxy.server.once("listening", () => r()));
    proxy.url = `http://127.0.0.1:${(proxy.server.address() as AddressInfo).port}`;
    return proxy;
  }

  private relay(client: WebSocket, path: string): void {
    const upstream = new WebSocket(`${this.target}${path}`);
    const queued: { data: RawData; binary: boolean }[] = [];
    const closeBoth = () => {
      if (client.readyState === WebSocket.OPEN) client.close(1011, "InternalServerError: backend gone");
      if (upstream.readyState === WebSocket.OPEN || upstream.readyState === WebSocket.CONNECTING)
        upstream.terminate();
    };
    // Text frames stay text frames (the sync protocol is JSON text).
    client.on("message", (data, binary) => {
      if (upstream.readyState === WebSocket.OPEN) upstream.send(data, { binary });
      else queued.push({ data, binary });
    });
    upstream.on("open", () => {
      for (const { data, binary } of queued.splice(0)) upstream.send(data, { binary });
    });
    upstream.on("message", (data, binary) => {
      let type = "?";
      try {
        type = (JSON.parse(String(data)) as { type?: string }).type ?? "?";
      } catch {
        // not JSON: forwarded as is
      }
      this.upstreamTypes.push(type);
      if (!this.holdDownstream && client.readyState === WebSocket.OPEN) client.send(data, { binary });
    });
    upstream.on("close", closeBoth);
    upstream.on("error", closeBoth);
    client.on("close", closeBoth);
    client.on("error", closeBoth);
  }

  async close(): Promise<void> {
    for (const ws of this.server.clients) ws.terminate();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
