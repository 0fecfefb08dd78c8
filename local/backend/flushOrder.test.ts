/**
 * "Flushed before the MutationResponse": every acknowledgement of a write leaves the server
 * only after the journal was fsync'ed since that write. (A kill -9 test cannot show this: the
 * page cache survives a killed process, only a power cut would lose an unsynced write.)
 */
import { afterAll, beforeAll, expect, test, vi } from "vitest";
import WebSocket from "ws";
import { Journal } from "./journal.ts";
import {
  api,
  newClient,
  signIn,
  startIssuer,
  startTestBackend,
  type Issuer,
  type TestBackend,
} from "./test.backend.ts";

let issuer: Issuer;
let backend: TestBackend;
beforeAll(async () => {
  issuer = await startIssuer();
  backend = await startTestBackend("flush-order", { issuerUrl: issuer.url });
});
afterAll(async () => {
  await backend?.dispose();
  await issuer?.close();
});

test("each MutationResponse is sent after a journal fsync that follows its commit", async () => {
  // Spies call through: they only record when append, sync and send ran.
  const appendSpy = vi.spyOn(Journal.prototype, "append");
  const sync = vi.spyOn(Journal.prototype, "sync");
  const send = vi.spyOn(WebSocket.prototype, "send");
  try {
    const client = newClient(backend.url);
    expect(await signIn(client, () => issuer.mint("user_flush", { metadata: { plan: "pro" } }))).toBe(true);
    appendSpy.mockClear();
    sync.mockClear();
    send.mockClear();
    for (let i = 0; i < 5; i++) await client.mutation(api.posts.create, { title: `durable ${i}`, body: "" });
    await client.close();

    // Merge the three call logs by their global invocation order.
    const order = (spy: { mock: { invocationCallOrder: number[] } }, name: string) =>
      spy.mock.invocationCallOrder.map((n) => ({ n, name }));
    const responses = send.mock.calls
      .map((call, i) => ({ n: send.mock.invocationCallOrder[i]!, data: String(call[0]) }))
      .filter((c) => c.data.includes('"type":"MutationResponse"') && c.data.includes('"success":true'))
      .map(({ n }) => ({ n, name: "response" }));
    const timeline = [...order(appendSpy, "append"), ...order(sync, "sync"), ...responses].sort(
      (a, b) => a.n - b.n,
    );
    expect(responses).toHaveLength(5);
    let unsynced = false;
    for (const event of timeline) {
      if (event.name === "append") unsynced = true;
      else if (event.name === "sync") unsynced = false;
      else
        expect(
          unsynced,
          `a MutationResponse left with an unsynced commit: ${timeline.map((e) => e.name).join(",")}`,
        ).toBe(false);
    }
  } finally {
    appendSpy.mockRestore();
    sync.mockRestore();
    send.mockRestore();
  }
});
