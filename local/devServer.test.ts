/**
 * The SPA's dev server (Vite with the project's vite.config.ts) serves none of the local stack's
 * data: not the legacy `.local/` inside the project, not the default data dir outside it, not
 * `.env` files, under any spelling of their paths; and the SPA's own module graph still loads.
 */
import fs from "node:fs";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { createServer, isFileLoadingAllowed, parseAst, type ViteDevServer } from "vite";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { defaultDataDir } from "./dataDir.ts";
import { get, inRootSpellings, outsideSpellings, probe, variants } from "./test.servedProbe.ts";

const repo = path.resolve(import.meta.dirname, "..");

function envWith(changes: Record<string, string | undefined>): () => void {
  const saved = Object.fromEntries(Object.keys(changes).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

async function startVite(root: string): Promise<{ vite: ViteDevServer; port: number }> {
  const vite = await createServer({
    root,
    configFile: path.join(repo, "vite.config.ts"),
    server: { port: 0, strictPort: false },
    logLevel: "silent",
  });
  await vite.listen();
  return { vite, port: (vite.httpServer!.address() as AddressInfo).port };
}

describe("the dev server with the project's vite.config.ts", () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "gatehouse-devserver-"));
  const root = path.join(tmp, "project");
  const stateHome = path.join(tmp, "state");
  let restoreEnv: () => void;
  let server: { vite: ViteDevServer; port: number };
  let dataDir: string;
  /** path → unique marker written into it */
  const planted = new Map<string, string>();

  function plant(file: string) {
    const marker = `SECRET-${planted.size}-${Math.random().toString(36).slice(2)}`;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify({ d: marker }));
    planted.set(file, marker);
  }

  beforeAll(async () => {
    fs.mkdirSync(root, { recursive: true });
    fs.copyFileSync(path.join(repo, "index.html"), path.join(root, "index.html"));
    fs.mkdirSync(path.join(root, "src"));
    fs.writeFileSync(path.join(root, "src", "main.tsx"), "export const ok = 1;\n");
    restoreEnv = envWith({ XDG_STATE_HOME: stateHome, LOCAL_DATA_DIR: undefined });
    dataDir = defaultDataDir(root);
    // What a data dir holds (IdP, backend, dev secrets), at the old place inside the project
    // and at the default place outside it; and .env files.
    for (const base of [path.join(root, ".local"), dataDir]) {
      for (const rel of [
        "idp/signing-key.json",
        "idp/state.json",
        "backend/journal.log",
        "backend/snapshot.json",
        "secrets.json",
      ]) {
        plant(path.join(base, rel));
      }
    }
    plant(path.join(root, ".local", "idp", "notes.txt"));
    plant(path.join(dataDir, "idp", "notes.txt"));
    plant(path.join(root, ".env"));
    plant(path.join(root, ".env.local"));
    plant(path.join(root, "src", ".env"));
    server = await startVite(root);
  });

  afterAll(async () => {
    await server?.vite.close();
    restoreEnv?.();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test("keeps the default data dir outside the project", () => {
    expect(path.relative(root, dataDir).startsWith("..")).toBe(true);
    expect(dataDir.startsWith(path.join(stateHome, "gatehouse") + path.sep)).toBe(true);
  });

  test("no spelling of a data file's path returns its content", async () => {
    const urls = [...planted.keys()].flatMap((file) => {
      const rel = path.relative(root, file);
      return variants(rel.startsWith("..") ? outsideSpellings(file, root) : inRootSpellings(rel, root));
    });
    const { leaks, notDenied, requests } = await probe(server.port, urls, [...planted.values()]);
    expect(requests).toBeGreaterThan(1000);
    expect(leaks).toEqual([]);
    expect(notDenied).toEqual([]);
  });

  test("server.fs is strict, allows only what the SPA needs, and denies every data file", () => {
    const config = server.vite.config;
    expect(config.server.fs.strict).toBe(true);
    expect(config.server.fs.allow).not.toContain(root);
    for (const file of planted.keys()) expect(isFileLoadingAllowed(config, file), file).toBe(false);
    expect(isFileLoadingAllowed(config, path.join(root, "src", "main.tsx"))).toBe(true);
    expect(isFileLoadingAllowed(config, path.join(root, "package.json"))).toBe(false);
  });
});

/** The specifiers a served module imports (static, re-exports, literal dynamic imports). */
function importsOf(code: string): string[] {
  const out: string[] = [];
  const visit = (node: unknown): void => {
    if (!node || typeof node !== "object") return;
    if (Array.isArray(node)) return node.forEach(visit);
    const n = node as { type?: string; source?: { type?: string; value?: unknown } };
    if (
      (n.type === "ImportDeclaration" ||
        n.type === "ExportNamedDeclaration" ||
        n.type === "ExportAllDeclaration" ||
        n.type === "ImportExpression") &&
      n.source?.type === "Literal" &&
      typeof n.source.value === "string"
    ) {
      out.push(n.source.value);
    }
    for (const value of Object.values(n)) visit(value);
  };
  visit(parseAst(code));
  return out;
}

describe("the SPA itself", () => {
  let server: { vite: ViteDevServer; port: number };
  beforeAll(async () => {
    server = await startVite(repo);
  });
  afterAll(async () => {
    await server?.vite.close();
  });

  test("every module the SPA imports still loads", async () => {
    const seen = new Set<string>();
    const failed: string[] = [];
    const queue = ["/"];
    while (queue.length && seen.size < 400) {
      const url = queue.shift()!;
      if (seen.has(url)) continue;
      seen.add(url);
      const { status, body, type } = await get(server.port, url);
      if (status !== 200) {
        failed.push(`${status} ${url}`);
        continue;
      }
      const found =
        url === "/"
          ? [...body.matchAll(/<(?:script|link)[^>]+(?:src|href)="([^"]+)"/g)].map((m) => m[1]!)
          : type.includes("javascript")
            ? importsOf(body)
            : [];
      for (const ref of found) {
        if (!ref.startsWith("/") && !ref.startsWith(".")) continue;
        const next = new URL(ref, `http://x${url}`);
        queue.push(next.pathname + next.search);
      }
    }
    expect(failed).toEqual([]);
    expect([...seen].some((u) => u.startsWith("/src/main.tsx"))).toBe(true);
    expect([...seen].some((u) => u.startsWith("/convex/_generated/api"))).toBe(true);
    expect([...seen].some((u) => u.startsWith("/node_modules/"))).toBe(true);
  }, 60_000);
});
