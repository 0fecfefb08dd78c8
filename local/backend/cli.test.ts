/**
 * The CLI's last resort: an error that escapes every handler (a bug) is reported loudly and the
 * backend keeps serving, instead of the process exiting and `npm start` stopping the whole stack.
 */
import fs from "node:fs";
import { ConvexHttpClient } from "convex/browser";
import { afterAll, expect, test } from "vitest";
import {
  api,
  escapingErrorPreload,
  eventually,
  spawnBackendCli,
  tempDir,
  type CliBackend,
} from "./test.backend.ts";

const fixtureDir = tempDir("cli-fixture");
let backend: CliBackend | undefined;
afterAll(async () => {
  await backend?.dispose();
  fs.rmSync(fixtureDir, { recursive: true, force: true });
});

test("an unhandled rejection and an uncaught exception are logged loudly; the backend keeps serving", async () => {
  // On SIGUSR2 one rejection and one exception escape, as a bug in a socket or timer callback would.
  backend = await spawnBackendCli("cli", { nodeArgs: escapingErrorPreload(fixtureDir) });
  backend.child.kill("SIGUSR2");
  const cli = backend;
  await eventually(
    () => cli.output(),
    (out) => out.includes("escaped exception") || !cli.alive(),
  );
  const out = cli.output();
  expect(out).toMatch(
    /local backend: BUG: unhandled promise rejection \(still serving\).*escaped rejection/s,
  );
  expect(out).toMatch(/local backend: BUG: uncaught exception \(still serving\).*escaped exception/s);
  expect(cli.alive(), out).toBe(true);
  expect((await fetch(`${cli.url}/version`)).status).toBe(200);
  expect(await new ConvexHttpClient(cli.url).query(api.users.me, {})).toBeNull();
});
