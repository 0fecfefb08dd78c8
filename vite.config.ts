import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";
import { DENIED_GLOBS, SERVED_PATHS, localDataGuard } from "./local/dataDir.ts";

export default defineConfig({
  // localDataGuard adds the project's .local/ and the data dir in use to `server.fs.deny`, and
  // answers 403 to any request naming local stack data, whatever its spelling (local/dataDir.ts).
  plugins: [localDataGuard(), react()],
  server: {
    host: "127.0.0.1",
    port: Number(process.env.PORT ?? 5173),
    strictPort: true,
    fs: {
      // Serve (and transform) only what the SPA needs, never the project root as a whole.
      strict: true,
      allow: [...SERVED_PATHS],
      // Vite's defaults (.env*, keys, .git) plus the local stack's data files by name.
      deny: [...DENIED_GLOBS],
    },
  },
  preview: { host: "127.0.0.1" },
});
