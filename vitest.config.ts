import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        // The Convex functions, on convex-test, in the runtime Convex's default functions use.
        test: {
          name: "convex",
          include: ["convex/**/*.test.ts"],
          environment: "edge-runtime",
          server: { deps: { inline: ["convex-test"] } },
        },
      },
      {
        // The offline stack (local backend, identity provider) driven by the real clients.
        test: {
          name: "local",
          include: ["local/**/*.test.ts"],
          environment: "node",
          testTimeout: 30_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
