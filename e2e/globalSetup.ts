/**
 * Starts the real offline stack (`local/start.ts`, as `npm start` does) on spare ports with a
 * throwaway data dir, for the browser suite; stops it afterwards.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";

const ARTIFACTS = path.resolve(import.meta.dirname, "artifacts");

/** E2E_PORT_OFFSET moves every port, so two browser suites can run side by side. */
const offset = Number(process.env.E2E_PORT_OFFSET ?? 0);
export const E2E_PORTS = {
  backend: 4310 + offset,
  site: 4311 + offset,
  idp: 4312 + offset,
  spa: 4173 + offset,
};

let stack: ChildProcess | undefined;
let dataDir: string | undefined;

export default async function setup(project: TestProject) {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "gatehouse-e2e-"));
  // The Backend API key, which also opens the IdP's dev mailbox (where the emailed codes are).
  const secretKey = `sk_test_${randomBytes(32).toString("base64url")}`;
  stack = spawn(process.execPath, ["--import", "tsx", "local/start.ts"], {
    cwd: path.resolve(import.meta.dirname, ".."),
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      LOCAL_CONVEX_PORT: String(E2E_PORTS.backend),
      LOCAL_CONVEX_SITE_PORT: String(E2E_PORTS.site),
      LOCAL_IDP_PORT: String(E2E_PORTS.idp),
      PORT: String(E2E_PORTS.spa),
      LOCAL_DATA_DIR: dataDir,
      CLERK_SECRET_KEY: secretKey,
    },
  });
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`stack did not start in 90 s:\n${output}`)), 90_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Gatehouse is running offline")) {
        clearTimeout(timer);
        resolve();
      }
    };
    stack!.stdout!.on("data", onData);
    stack!.stderr!.on("data", onData);
    // The whole stack log, kept beside the screenshots, for when a journey fails.
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const log = fs.createWriteStream(path.join(ARTIFACTS, "stack.log"));
    stack!.stdout!.pipe(log);
    stack!.stderr!.pipe(log);
    stack!.once("exit", (code) => reject(new Error(`stack exited with ${code}:\n${output}`)));
  });
  const ready = /ready in ([\d.]+) s/.exec(output)?.[1];
  console.log(`[e2e] offline stack ready in ${ready} s`);
  project.provide("spaUrl", `http://127.0.0.1:${E2E_PORTS.spa}`);
  project.provide("idpUrl", `http://127.0.0.1:${E2E_PORTS.idp}`);
  project.provide("idpSecretKey", secretKey);
  return teardown;
}

async function teardown() {
  if (stack && stack.exitCode === null) {
    stack.kill("SIGINT");
    await new Promise((r) => {
      const timer = setTimeout(() => (stack?.kill("SIGKILL"), r(undefined)), 5000);
      stack!.once("exit", () => (clearTimeout(timer), r(undefined)));
    });
  }
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
}

declare module "vitest" {
  export interface ProvidedContext {
    spaUrl: string;
    idpUrl: string;
    idpSecretKey: string;
  }
}
