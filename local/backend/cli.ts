/**
 * `npx tsx local/backend/cli.ts [--reset] [--no-watch] [--env-file FILE] [--env KEY=VALUE]…`
 *
 * Ports: $LOCAL_CONVEX_PORT (3210), $LOCAL_CONVEX_SITE_PORT (3211); data: $LOCAL_CONVEX_DATA_DIR
 * (`backend/` in the stack's data dir: $LOCAL_DATA_DIR, else outside the project, see local/dataDir.ts). The functions' environment: every CLERK_* variable of this process, then
 * --env-file files (KEY=VALUE lines), then --env flags.
 */
import fs from "node:fs";
import { installCrashGuards } from "../crashGuard.ts";
import { PortInUseError } from "./listen.ts";
import { startBackend } from "./server.ts";

function parseEnvFile(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of fs.readFileSync(file, "utf8").split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    let value = match[2] ?? "";
    if (/^(["']).*\1$/.test(value)) value = value.slice(1, -1);
    out[match[1]!] = value;
  }
  return out;
}

function usage(): never {
  console.log(
    "usage: tsx local/backend/cli.ts [--reset] [--no-watch] [--env-file FILE] [--env KEY=VALUE]...",
  );
  process.exit(0);
}

async function main(): Promise<void> {
  // One escaped error must not stop the whole stack; see local/crashGuard.ts for why this is safe.
  installCrashGuards("local backend");
  const args = process.argv.slice(2);
  let reset = false;
  let watch = true;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (k.startsWith("CLERK_") && v !== undefined) env[k] = v;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--reset") reset = true;
    else if (arg === "--no-watch") watch = false;
    else if (arg === "--help" || arg === "-h") usage();
    else if (arg === "--env-file") Object.assign(env, parseEnvFile(args[++i] ?? ""));
    else if (arg === "--env") {
      const kv = args[++i] ?? "";
      const eq = kv.indexOf("=");
      if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
    } else {
      console.error(`local backend: unknown argument ${arg}`);
      process.exit(2);
    }
  }

  const backend = await startBackend({
    reset,
    watch,
    env,
    ...(process.env["LOCAL_CONVEX_DATA_DIR"] ? { dataDir: process.env["LOCAL_CONVEX_DATA_DIR"] } : {}),
    onFunctionLogs: (label, lines) => {
      for (const line of lines) console.log(`${label} ${line}`);
    },
  });
  backend.on("reload", (info: { generation: number; ms: number }) => {
    console.log(`local backend: functions reloaded (generation ${info.generation}, ${info.ms} ms)`);
  });
  backend.on("reloadError", (error: Error) => {
    console.error(`local backend: reload failed, still serving the previous functions: ${error.message}`);
  });
  console.log(
    `local backend: ${backend.url} (site ${backend.siteUrl}), data ${backend.dataDir}, ready in ${backend.startupMs} ms`,
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`local backend: ${signal}, stopping`);
    // A close that hangs (a stuck client, a journal on a dead disk) must not keep the ports.
    setTimeout(() => process.exit(0), 5000).unref();
    void backend.close().then(() => process.exit(0));
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  watchParent(stop);
}

/**
 * Under `npm start` the parent keeps a pipe to our stdin; when it closes, the parent is gone
 * (Ctrl-C'd, crashed, or kill -9'd), and an orphaned backend would hold the ports until found
 * by hand. Output into a pipe nobody reads fails with EPIPE: also a reason to stop, and never
 * one to report (reporting it would fail the same way, over and over).
 */
function watchParent(stop: (why: string) => void): void {
  if (process.env["LOCAL_BACKEND_EXIT_WITH_PARENT"] === "1") {
    process.stdin.on("end", () => stop("parent exited"));
    process.stdin.on("error", () => stop("parent exited"));
    process.stdin.resume();
  }
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EPIPE") stop("output closed");
    });
  }
}

main().catch((error: unknown) => {
  if (error instanceof PortInUseError) {
    console.error(
      `local backend: ${error.message} (set LOCAL_CONVEX_PORT / LOCAL_CONVEX_SITE_PORT to use others)`,
    );
  } else {
    console.error(`local backend: ${error instanceof Error ? error.message : String(error)}`);
  }
  process.exit(1);
});
