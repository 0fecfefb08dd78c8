// Fails when the JavaScript a first visit downloads (the scripts and module preloads that
// dist/index.html names; clerk-js itself comes from Clerk, as in production) grows past its budget.
import fs from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";

/** 138 kB gzip when the SPA moved to one Clerk auth path (issue 7), plus 5 %. */
const BUDGET_BYTES = Math.round(138 * 1000 * 1.05);

const dist = path.resolve(import.meta.dirname, "../dist");
const html = fs.readFileSync(path.join(dist, "index.html"), "utf8");
const scripts = [
  ...html.matchAll(/<script[^>]*type="module"[^>]*src="([^"]+)"/g),
  ...html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g),
].map((m) => m[1]);
if (scripts.length === 0) {
  console.error("dist/index.html names no module script; run vite build first.");
  process.exit(1);
}
let total = 0;
for (const src of scripts) {
  const size = gzipSync(fs.readFileSync(path.join(dist, src.replace(/^\//, "")))).length;
  total += size;
  console.log(`  ${src}  ${(size / 1000).toFixed(1)} kB gzip`);
}
const line = `first route: ${(total / 1000).toFixed(1)} kB gzip of JavaScript (budget ${(BUDGET_BYTES / 1000).toFixed(1)} kB)`;
if (total > BUDGET_BYTES) {
  console.error(`${line}: over budget.`);
  process.exit(1);
}
console.log(line);
