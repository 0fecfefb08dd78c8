import js from "@eslint/js";
import convexPlugin from "@convex-dev/eslint-plugin";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist", "node_modules", "convex/_generated", ".local", "e2e/artifacts", "coverage"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  ...convexPlugin.configs.recommended,
  {
    files: ["convex/**/*.ts"],
    rules: {
      // What `npx convex deploy` would refuse, or what would scan other users' data, fails here first.
      "@convex-dev/require-access-control": "error",
      "@convex-dev/import-wrong-runtime": "error",
      "@convex-dev/no-filter-in-query": "error",
      "no-restricted-imports": [
        "error",
        {
          paths: [
            {
              name: "./_generated/server",
              importNames: ["query", "mutation", "action"],
              message:
                "Build public functions with the wrappers in convex/lib/functions.ts (the auth choke point).",
            },
            {
              name: "../_generated/server",
              importNames: ["query", "mutation", "action"],
              message:
                "Build public functions with the wrappers in convex/lib/functions.ts (the auth choke point).",
            },
          ],
        },
      ],
    },
  },
  {
    // The builders themselves are the one place the raw registrars are used.
    files: ["convex/lib/functions.ts"],
    rules: { "no-restricted-imports": "off" },
  },
  {
    // Convex reads auth.config.ts before functions load; process.env is how it is configured.
    files: ["convex/auth.config.ts"],
    rules: { "@convex-dev/no-process-env": "off" },
  },
  {
    files: ["convex/**/*.test.ts"],
    rules: { "@convex-dev/no-process-env": "off" },
  },
  {
    files: ["src/**/*.{ts,tsx}"],
    plugins: { "react-hooks": reactHooks },
    rules: reactHooks.configs.recommended.rules,
  },
);
