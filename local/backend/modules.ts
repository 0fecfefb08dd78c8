/**
 * Loads the app's `convex/` modules, one fresh copy per engine generation (hot reload), while
 * packages (`convex`, `convex-test`, …) stay single instances shared with the server.
 *
 * Each generation imports `file:///…/convex/x.ts?gatehouse-gen=N`; a tiny resolve hook copies
 * that query onto every relative import that stays outside node_modules, so the whole module
 * graph under `convex/` is re-evaluated, and bare package imports resolve as usual. TypeScript
 * is compiled by tsx's loader (already active under the tsx CLI; registered here otherwise).
 */
import fs from "node:fs";
import { register } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { register as registerTsx } from "tsx/esm/api";
import vm from "node:vm";

const GEN_PARAM = "gatehouse-gen";

/**
 * A real Node dynamic import. Under vitest, `import()` in these sources goes through vite's
 * module runner, which caches by id and compiles TypeScript itself; this one uses Node's own
 * ESM loader (with tsx and the hook below), like convex-test's own `convex` imports.
 */
const nativeImport: (url: string) => Promise<Record<string, unknown>> = process.env["VITEST"]
  ? compileNativeImport()
  : (url) => import(url) as Promise<Record<string, unknown>>;

function compileNativeImport(): (url: string) => Promise<Record<string, unknown>> {
  // Node 20 flags this loader option as experimental (one warning, at first use): noise in a test run.
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (String(warning).includes("USE_MAIN_CONTEXT_DEFAULT_LOADER")) {
      process.emitWarning = emitWarning;
      return;
    }
    (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  return vm.compileFunction("return import(url)", ["url"], {
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  }) as (url: string) => Promise<Record<string, unknown>>;
}

const RESOLVE_HOOK = `
const P = ${JSON.stringify(GEN_PARAM)};
export async function resolve(specifier, context, nextResolve) {
  const r = await nextResolve(specifier, context);
  const parent = context.parentURL;
  if (!parent || !parent.startsWith("file:") || !r.url.startsWith("file:") || r.url.includes("/node_modules/")) return r;
  const gen = new URL(parent).searchParams.get(P);
  if (gen === null) return r;
  const u = new URL(r.url);
  if (u.searchParams.get(P) === gen) return r;
  u.searchParams.set(P, gen);
  return { ...r, url: u.href };
}
`;

const hooksKey = Symbol.for("gatehouse.localBackend.loaderHooks");
type GlobalWithHooks = typeof globalThis & { [hooksKey]?: true };

function ensureLoaderHooks(): void {
  const g = globalThis as GlobalWithHooks;
  if (g[hooksKey]) return;
  g[hooksKey] = true;
  const tsxActive = [...process.execArgv, process.env["NODE_OPTIONS"] ?? ""].some((a) => a.includes("tsx"));
  if (!tsxActive) registerTsx();
  register(`data:text/javascript,${encodeURIComponent(RESOLVE_HOOK)}`);
}

const SOURCE_EXT = /\.(ts|tsx|mts|cts|js|jsx|mjs|cjs)$/;

/**
 * Source files under convexDir, relative and "/"-separated: the deployable function modules
 * (`npx convex deploy`'s entry-point rules: no `_generated/`, dotfiles, `#` files, schema, names
 * with more than one dot such as `auth.config.ts` or `x.test.ts`, or spaces), plus the
 * `_generated/` files, `schema` and `auth.config` the engine needs.
 */
export function listModuleFiles(convexDir: string): { files: string[]; entryPoints: string[] } {
  const files: string[] = [];
  const entryPoints: string[] = [];
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(convexDir, rel), { withFileTypes: true })) {
      const name = entry.name;
      if (name === "node_modules") continue;
      const childRel = rel ? `${rel}/${name}` : name;
      if (entry.isDirectory()) {
        if (!fs.existsSync(path.join(convexDir, childRel, "convex.config.ts"))) walk(childRel);
        continue;
      }
      if (!SOURCE_EXT.test(name) || /\.d\.[mc]?ts$/.test(name)) continue;
      const dots = (name.match(/\./g) ?? []).length;
      if (childRel.startsWith("_generated/")) files.push(childRel);
      else if (name.startsWith(".") || name.startsWith("#") || childRel.includes(" ")) continue;
      else if (/^schema\.[jt]s$/.test(name) && rel === "") files.push(childRel);
      else if (dots > 1) {
        if (rel === "" && /^auth\.config\.[jt]s$/.test(name)) files.push(childRel);
      } else {
        files.push(childRel);
        entryPoints.push(childRel);
      }
    }
  };
  walk("");
  return { files: files.sort(), entryPoints: entryPoints.sort() };
}

/** True for changes that should reload the functions (not tests, not editor temp files). */
export function isModuleChange(file: string): boolean {
  const base = path.basename(file);
  if (base.startsWith(".") || base.endsWith("~")) return false;
  if (/\.(test|spec)\./.test(base)) return false;
  return SOURCE_EXT.test(base) || base === "tsconfig.json";
}

let generationCounter = 0;

/** One generation of the `convex/` module graph. */
export class ModuleGeneration {
  readonly convexDir: string;
  readonly files: string[];
  /** Deployable modules, by Convex path ("posts", "lib/functions"). */
  readonly entryPoints: string[];
  readonly genId: string;
  /** "posts" → absolute file, "lib/functions" → … */
  private readonly byModulePath = new Map<string, string>();
  private readonly cache = new Map<string, Promise<Record<string, unknown>>>();

  constructor(convexDir: string) {
    ensureLoaderHooks();
    this.convexDir = convexDir;
    const listed = listModuleFiles(convexDir);
    this.files = listed.files;
    this.entryPoints = listed.entryPoints.map((f) => f.replace(/\.[^./]+$/, ""));
    this.genId = `${process.pid}.${++generationCounter}.${Date.now().toString(36)}`;
    for (const rel of this.files)
      this.byModulePath.set(rel.replace(/\.[^./]+$/, ""), path.join(convexDir, rel));
  }

  has(modulePath: string): boolean {
    return this.byModulePath.has(modulePath);
  }

  isEntryPoint(modulePath: string): boolean {
    return this.entryPoints.includes(modulePath);
  }

  /** Imports a module by its Convex path ("posts", "lib/functions", "_generated/api"). */
  import(modulePath: string): Promise<Record<string, unknown>> {
    let p = this.cache.get(modulePath);
    if (!p) {
      const file = this.byModulePath.get(modulePath);
      if (!file) return Promise.reject(new Error(`Could not find module for: "${modulePath}"`));
      const url = `${pathToFileURL(file).href}?${GEN_PARAM}=${this.genId}`;
      p = nativeImport(url);
      this.cache.set(modulePath, p);
    }
    return p;
  }

  /** The `modules` map convex-test expects: "./convex/<rel>" → loader. */
  convexTestModules(): Record<string, () => Promise<Record<string, unknown>>> {
    const map: Record<string, () => Promise<Record<string, unknown>>> = {};
    for (const rel of this.files) {
      const modulePath = rel.replace(/\.[^./]+$/, "");
      map[`./convex/${rel}`] = () => this.import(modulePath);
    }
    return map;
  }
}
