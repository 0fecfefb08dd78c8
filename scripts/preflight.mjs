// `npm start` preflight, in plain Node so it runs even before dependencies are installed.
import { existsSync } from "node:fs";

if (!existsSync(new URL("../node_modules/.bin/tsx", import.meta.url))) {
  console.error("Dependencies are not installed: run `npm ci` first, then `npm start`.");
  process.exit(1);
}
