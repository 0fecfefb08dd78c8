import js from "@eslint/js";
import convexPlugin from "@convex-dev/eslint-plugin";
import { createNodeResolver, importX } from "eslint-plugin-import-x";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import tseslint from "typescript-eslint";

/**
 * What the SPA may take from the backend: the API's references, the pure rules it shares for UX
 * (permissions, error codes, text limits) and types. Never a module that reads `ctx` (viewer.ts,
 * functions.ts, …): that code is the server's to run.
 */
const BACKEND_BOUNDARY = [
  {
    regex:
      "^(\\.\\./)+convex/(?!_generated/(api|dataModel)$|lib/(permissions|errors|postText|validators|publicFeed)$)",
    message:
      "The SPA imports from convex/ only _generated/api, lib/permissions, lib/errors, lib/postText and types.",
  },
  {
    regex: "^(\\.\\./)+convex/(_generated/dataModel|lib/(validators|publicFeed))$",
    allowTypeImports: true,
    message: "Only types from the backend's validators and data model: their values are the server's.",
  },
];

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
  {
    // A promise nobody awaits loses its error (an unhandled rejection, or a failure no one sees),
    // and a promise where a void callback is expected runs unordered: both must be deliberate.
    files: ["**/*.{ts,tsx}"],
    languageOptions: {
      parserOptions: {
        project: ["./tsconfig.json", "./tsconfig.app.json", "./convex/tsconfig.json"],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": [
        "error",
        // Testing Library's act() around synchronous work has nothing left to wait for.
        {
          allowForKnownSafeCalls: [
            { from: "package", name: "act", package: "@testing-library/react" },
            { from: "package", name: "act", package: "react" },
          ],
        },
      ],
      "@typescript-eslint/no-misused-promises": "error",
    },
  },
  {
    // Every module graph stays acyclic: a cycle makes load order, and so behaviour, depend on who
    // imports first. (Type-only imports are erased and do not count.)
    files: ["**/*.{ts,tsx}"],
    plugins: { "import-x": importX },
    settings: {
      "import-x/extensions": [".ts", ".tsx", ".js", ".mjs"],
      "import-x/parsers": { "@typescript-eslint/parser": [".ts", ".tsx"] },
      "import-x/resolver-next": [createNodeResolver({ extensions: [".ts", ".tsx", ".d.ts", ".js", ".mjs"] })],
    },
    rules: { "import-x/no-cycle": ["error", { ignoreExternal: true }] },
  },
  {
    // The SPA's boundary with the backend (BACKEND_BOUNDARY).
    files: ["src/**/*.{ts,tsx}"],
    rules: {
      "no-restricted-imports": "off",
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          patterns: BACKEND_BOUNDARY,
        },
      ],
    },
  },
  {
    // Features stand alone: shared code goes to src/components, src/lib or src/auth, not into
    // another feature's folder. (One rule's options replace another's, so the boundary is repeated.)
    files: ["src/features/**/*.{ts,tsx}"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          patterns: [
            ...BACKEND_BOUNDARY,
            {
              regex: "^\\.\\./(?!\\.\\.)",
              message:
                "No imports between features: move what both need to src/components, src/lib or src/auth.",
            },
          ],
        },
      ],
    },
  },
);
