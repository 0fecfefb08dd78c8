/**
 * The dev server's half of running Clerk offline (see offline.ts): it serves the pinned clerk-js
 * build from node_modules and proxies Clerk's Frontend API path to the local IdP, so the browser
 * talks to one origin, with first-party cookies and no CORS, as it would through Clerk's proxy.
 */
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { Plugin } from "vite";
import { CLERK_JS_VERSION } from "../../src/lib/clerkJs.ts";
import { CLERK_JS_BASE_PATH, CLERK_PROXY_PATH } from "./offline.ts";

/** clerk-js's `dist/`, checked to be the pinned version: a mismatch stops `npm start` with a reason. */
export function clerkJsDist(): string {
  const manifest = createRequire(import.meta.url).resolve("@clerk/clerk-js/package.json");
  const { version } = JSON.parse(fs.readFileSync(manifest, "utf8")) as { version: string };
  if (version !== CLERK_JS_VERSION) {
    throw new Error(
      `@clerk/clerk-js ${version} is installed but Gatehouse is pinned to ${CLERK_JS_VERSION} ` +
        "(src/lib/clerkJs.ts); run npm ci.",
    );
  }
  return path.join(path.dirname(manifest), "dist");
}

/**
 * The browser bundle and its lazy chunks, by file name. Only names listed here are served, so no
 * spelling of a path under the prefix reaches any other file.
 */
export function clerkJsFiles(dist: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const name of fs.readdirSync(dist)) {
    if (/^[\w.-]+\.js$/.test(name) && fs.statSync(path.join(dist, name)).isFile()) {
      files.set(name, path.join(dist, name));
    }
  }
  return files;
}

export function offlineClerk({ idpUrl }: { idpUrl: string }): Plugin {
  const files = clerkJsFiles(clerkJsDist());
  return {
    name: "gatehouse:offline-clerk",
    config: () => ({
      server: {
        proxy: {
          // The prefix with its slash, so `/__clerkx` is not forwarded. Paths pass unchanged.
          [`^${CLERK_PROXY_PATH}/`]: { target: idpUrl },
        },
      },
    }),
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const pathname = (req.url ?? "").split("?")[0]!;
        if (!pathname.startsWith("/clerkjs/")) return next();
        const file = pathname.startsWith(CLERK_JS_BASE_PATH)
          ? files.get(pathname.slice(CLERK_JS_BASE_PATH.length))
          : undefined;
        if (!file || (req.method !== "GET" && req.method !== "HEAD")) {
          res.statusCode = 404;
          res.setHeader("Content-Type", "text/plain; charset=utf-8");
          res.end("Not found\n");
          return;
        }
        res.setHeader("Content-Type", "text/javascript; charset=utf-8");
        res.setHeader("X-Content-Type-Options", "nosniff");
        // The path names the version, so a copy can be kept for good.
        res.setHeader("Cache-Control", "public, max-age=31536000, immutable");
        if (req.method === "HEAD") return void res.end();
        fs.createReadStream(file)
          .on("error", () => res.destroy())
          .pipe(res);
      });
    },
  };
}
