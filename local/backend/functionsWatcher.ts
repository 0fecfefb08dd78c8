/**
 * Hot reload's trigger: `fs.watch` on the functions directory. A burst of changes (an editor's
 * save, a git checkout) becomes one reload 100 ms after the last of them; tests and editor
 * temp files do not count (modules.ts `isModuleChange`).
 */
import fs from "node:fs";
import { isModuleChange } from "./modules.ts";

export type FunctionsWatcher = { close(): void };

export function watchFunctions(convexDir: string, reload: () => void): FunctionsWatcher {
  let reloadTimer: NodeJS.Timeout | null = null;
  const watcher = fs.watch(convexDir, { recursive: true }, (_event, filename) => {
    if (filename && !isModuleChange(filename.toString())) return;
    if (reloadTimer) clearTimeout(reloadTimer);
    reloadTimer = setTimeout(() => {
      reloadTimer = null;
      reload();
    }, 100);
  });
  watcher.on("error", () => undefined);
  return {
    close() {
      watcher.close();
      if (reloadTimer) clearTimeout(reloadTimer);
    },
  };
}
