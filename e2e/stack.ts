/**
 * The real offline stack (`local/start.ts`, as `npm start` runs it) on given ports with a
 * throwaway data dir and its own Backend API key, for the browser suite and the README's
 * screenshots. `stop()` ends it and deletes the data.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export type StackPorts = { backend: number; site: number; idp: number; spa: number };

export interface RunningStack {
  spaUrl: string;
  idpUrl: string;
  /** The Backend API key, which also opens the IdP's dev mailbox (where the emailed codes are). */
  secretKey: string;
  readySeconds: string | undefined;
  stop(): Promise<void>;
}

export async function startStack(
  ports: StackPorts,
  options: { logFile?: string } = {},
): Promise<RunningStack> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "gatehouse-stack-"));
  const secretKey = `sk_test_${randomBytes(32).toString("base64url")}`;
  const child = spawn(process.execPath, ["--import", "tsx", "local/start.ts"], {
    cwd: path.resolve(import.meta.dirname, ".."),
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      LOCAL_CONVEX_PORT: String(ports.backend),
      LOCAL_CONVEX_SITE_PORT: String(ports.site),
      LOCAL_IDP_PORT: String(ports.idp),
      PORT: String(ports.spa),
      LOCAL_DATA_DIR: dataDir,
      CLERK_SECRET_KEY: secretKey,
    },
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGINT");
      await new Promise((r) => {
        const timer = setTimeout(() => (child.kill("SIGKILL"), r(undefined)), 5000);
        child.once("exit", () => (clearTimeout(timer), r(undefined)));
      });
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  if (options.logFile) {
    fs.mkdirSync(path.dirname(options.logFile), { recursive: true });
    const log = fs.createWriteStream(options.logFile);
    child.stdout.pipe(log);
    child.stderr.pipe(log);
  }
  let output = "";
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`stack did not start in 90 s:\n${output}`)), 90_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes("Gatehouse is running offline")) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
      child.once("exit", (code) => reject(new Error(`stack exited with ${code}:\n${output}`)));
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    spaUrl: `http://127.0.0.1:${ports.spa}`,
    idpUrl: `http://127.0.0.1:${ports.idp}`,
    secretKey,
    readySeconds: /ready in ([\d.]+) s/.exec(output)?.[1],
    stop,
  };
}
