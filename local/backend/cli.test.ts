/**
 * The CLI's last resort: an error that escapes every handler (a bug) is reported loudly and the
 * backend keeps serving, instead of the process exiting and `npm start` stopping the whole stack.
 */
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { ConvexHttpClient } from "convex/browser";
import { afterAll, expect, test } from "vitest";
import { api, eventually, spawnBackendCli, tempDir, type CliBackend } from "./test-utils.ts";

const fixtureDir = tempDir("cli-fixture");
let backend: CliBackend | undefined;
afterAll(async () => {
  await backend?.dispose();
  fs.rmSync(fixtureDir, { recursive: true, force: true });
});

test("an unhandled rejection and an uncaught exception are logged loudly; the backend keeps serving", async () => {
  // Preloaded into the CLI process: on SIGUSR2, one escaped rejection and one escaped throw,
  // standing in for a bug in some socket or timer callback.
  const preload = path.join(fixtureDir, "escape.mjs");
  fs.writeFileSync(
    preload,
    `process.on("SIGUSR2", () => {
      Promise.reject(new Error("escaped rejection"));
      setImmediate(() => { throw new Error("escaped exception"); });
    });\n`,
  );
  backend = await spawnBackendCli("cli", { nodeArgs: ["--import", pathToFileURL(preload).href] });
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
