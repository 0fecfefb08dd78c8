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
      {
        // The SPA's components in jsdom with Testing Library (no stack, no browser).
        test: {
          name: "ui",
          include: ["src/**/*.test.tsx"],
          environment: "jsdom",
          setupFiles: ["src/test/setup.ts"],
        },
      },
      {
        // Attacks on the running stack (npm run test:security; not part of npm test).
        test: {
          name: "security",
          include: ["security/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        // Faults, chaos and load against the running stack (npm run test:reliability).
        test: {
          name: "reliability",
          include: ["reliability/**/*.test.ts"],
          environment: "node",
          testTimeout: 180_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        // The SPA in Debian's Chromium against `local/start.ts` (npm run test:e2e; not part of npm test).
        test: {
          name: "e2e",
          include: ["e2e/**/*.e2e.test.ts"],
          environment: "node",
          globalSetup: ["e2e/globalSetup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
