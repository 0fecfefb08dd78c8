/**
 * Where the local stack keeps its data, and what Vite's dev server may serve.
 *
 * The data is secret: the IdP's private signing key (whoever has it mints tokens the backend
 * accepts, admin included), password hashes and live session ids, the backend's journal, the dev
 * webhook secret and Backend API key. So it lives outside the project tree by default, in the
 * user's state directory, one directory per checkout:
 *
 *   $XDG_STATE_HOME/gatehouse/<project dir name>-<hash of its path>   (XDG_STATE_HOME: ~/.local/state)
 *
 * and the dev server is configured (vite.config.ts) to serve only what the SPA needs, to deny the
 * data files by name and location, and to refuse any request naming them.
 */
import { createHash } from "node:crypto";
import os from "node:os";
import path from "node:path";
import type { Plugin } from "vite";

/** What the SPA needs from the project, relative to its root: Vite's `server.fs.allow`. */
export const SERVED_PATHS: readonly string[] = ["index.html", "src", "public", "convex", "node_modules"];

/** The local stack's data files (IdP: key, state; backend: snapshot, journal, lock; the dev secrets). */
export const DATA_FILE_NAMES: readonly string[] = [
  "signing-key.json",
  "state.json",
  "secrets.json",
  "snapshot.json",
  "journal.log",
  "backend.lock",
];

/** Vite's own `server.fs.deny` defaults, which a configured list replaces rather than extends. */
const VITE_DEFAULT_DENY = [
  ".env",
  ".env.*",
  "*.{crt,pem,key,p12,pfx,cer,der}",
  ".npmrc",
  ".yarnrc.yml",
  "**/.git/**",
];

/** `server.fs.deny` for any project: Vite's defaults plus the data files by name, wherever they are. */
export const DENIED_GLOBS: readonly string[] = [
  ...VITE_DEFAULT_DENY,
  ...DATA_FILE_NAMES.map((n) => `**/${n}`),
];

/** The data dir `npm start` uses when LOCAL_DATA_DIR is unset: outside the project, per checkout. */
export function defaultDataDir(projectRoot: string, env: NodeJS.ProcessEnv = process.env): string {
  const root = path.resolve(projectRoot);
  const stateHome =
    env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME)
      ? env.XDG_STATE_HOME
      : process.platform === "win32" && env.LOCALAPPDATA
        ? env.LOCALAPPDATA
        : path.join(os.homedir(), ".local", "state");
  const hash = createHash("sha256").update(root).digest("hex").slice(0, 12);
  const name = path.basename(root).replace(/[^A-Za-z0-9._-]/g, "_") || "project";
  return path.join(stateHome, "gatehouse", `${name}-${hash}`);
}

/** LOCAL_DATA_DIR (relative to the cwd) when set, else the default. Always absolute. */
export function resolveDataDir(projectRoot: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.LOCAL_DATA_DIR ? path.resolve(env.LOCAL_DATA_DIR) : defaultDataDir(projectRoot, env);
}

function isInside(dir: string, target: string, caseInsensitive = false): boolean {
  const [d, t] = caseInsensitive ? [dir.toLowerCase(), target.toLowerCase()] : [dir, target];
  const rel = path.relative(d, t);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

/**
 * Why `dataDir` must not be used with a dev server on `projectRoot`, or undefined when it may.
 * Inside a served path it would be served (public/ even bypasses `server.fs.deny`); the project
 * root or a parent of it would be wiped by `--reset`.
 */
export function dataDirProblem(projectRoot: string, dataDir: string): string | undefined {
  const root = path.resolve(projectRoot);
  const dir = path.resolve(dataDir);
  if (isInside(dir, root)) {
    return `LOCAL_DATA_DIR=${dir} contains the project; point it at a directory of its own.`;
  }
  for (const served of SERVED_PATHS) {
    if (isInside(path.join(root, served), dir)) {
      return `LOCAL_DATA_DIR=${dir} is inside ${served}/, which the dev server serves; point it elsewhere.`;
    }
  }
  return undefined;
}

/** Escapes a literal path for a picomatch glob. */
function globLiteral(p: string): string {
  return p
    .split(path.sep)
    .join("/")
    .replace(/[\\*?[\](){}!+@|]/g, "\\$&");
}

/** A path segment naming a data file or an `.env` file (also `state.json.bak`, `.env;x`, `.env.local`). */
function namesData(segment: string): boolean {
  return /^\.env(?![a-z0-9_-])/.test(segment) || DATA_FILE_NAMES.some((name) => segment.startsWith(name));
}

/** Every spelling a request path may stand for: as sent, then decoded once, twice, … */
function decodings(pathname: string): string[] {
  const out = [pathname];
  for (let current = pathname, i = 0; i < 4; i++) {
    let next: string;
    try {
      next = decodeURIComponent(current);
    } catch {
      next = current.replace(/%2e/gi, ".").replace(/%2f/gi, "/").replace(/%5c/gi, "\\");
    }
    if (next === current) break;
    out.push(next);
    current = next;
  }
  return out;
}

/**
 * Whether a request URL names local stack data: a data file by name anywhere in its path, an
 * `.env` file, or anything under a protected directory, however it is spelled (percent-encoded,
 * doubled or back slashes, `..`, any case, behind Vite's `/@fs/` or `/@id/` prefixes).
 */
export function requestNamesData(url: string, root: string, protectedDirs: readonly string[]): boolean {
  const pathname = url.split(/[?#]/, 1)[0] ?? "";
  for (const spelled of decodings(pathname)) {
    const p = spelled.replace(/\\/g, "/");
    if (p.toLowerCase().split("/").some(namesData)) return true;
    // Without Vite's prefixes the rest is a root-relative URL or an absolute file path.
    const bare = p.replace(/^(\/+@[^/]*)+/, "").replace(/^\/*__x00__/, "");
    const targets = [p, bare].flatMap((q) => [
      path.posix.resolve(root, `./${q}`),
      path.posix.resolve("/", q),
    ]);
    for (const target of targets) {
      if (protectedDirs.some((dir) => isInside(dir, target, true))) return true;
    }
  }
  return false;
}

/**
 * The dev server's guard for local data: denies (`server.fs.deny`) the project's legacy `.local/`
 * and the data dir in use, and answers 403 to any request naming data before Vite's own
 * middlewares (static files, public/, transforms, `/@fs/`) see it.
 */
export function localDataGuard(): Plugin {
  let root = process.cwd();
  let protectedDirs: string[] = [];
  return {
    name: "gatehouse:local-data-guard",
    enforce: "pre",
    config(user) {
      root = path.resolve(user.root ?? process.cwd());
      protectedDirs = [path.join(root, ".local"), resolveDataDir(root)];
      return {
        server: { fs: { deny: protectedDirs.flatMap((d) => [globLiteral(d), `${globLiteral(d)}/**`]) } },
      };
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        if (!requestNamesData(req.url ?? "/", root, protectedDirs)) return next();
        res.statusCode = 403;
        res.setHeader("Content-Type", "text/plain; charset=utf-8");
        res.end("403 Forbidden: the local stack's data is never served.\n");
      });
    },
  };
}
