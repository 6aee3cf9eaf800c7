// ESLint: Next's core-web-vitals and TypeScript rules (React hooks included), type-only imports
// inline as in t3, Drizzle's guards against a DELETE or UPDATE without WHERE, and the import
// layers (scripts/eslint-plugin-layers.mjs; README "Architecture").
import { defineConfig, globalIgnores } from "eslint/config";
import nextVitals from "eslint-config-next/core-web-vitals";
import nextTs from "eslint-config-next/typescript";
import drizzle from "eslint-plugin-drizzle";
import layers from "./scripts/eslint-plugin-layers.mjs";

export default defineConfig([
  ...nextVitals,
  ...nextTs,
  globalIgnores([
    ".next/**",
    "node_modules/**",
    "data/**",
    ".data/**",
    "test-results/**",
    "agent/dist/**",
    "next-env.d.ts",
    "tests/helpers/openapi-types.ts",
  ]),
  {
    plugins: { drizzle },
    rules: {
      "@typescript-eslint/consistent-type-imports": [
        "warn",
        { prefer: "type-imports", fixStyle: "inline-type-imports" },
      ],
      "@typescript-eslint/no-unused-vars": [
        "error",
        {
          argsIgnorePattern: "^_",
          varsIgnorePattern: "^_",
          caughtErrors: "none",
        },
      ],
      "drizzle/enforce-delete-with-where": [
        "error",
        { drizzleObjectName: ["db", "tx", "ctx.db"] },
      ],
      "drizzle/enforce-update-with-where": [
        "error",
        { drizzleObjectName: ["db", "tx", "ctx.db"] },
      ],
    },
  },
  {
    files: ["app/**", "server/**", "db/**", "emails/**"],
    plugins: { layers },
    rules: { "layers/imports": "error" },
  },
  {
    // Tests and scripts read JSON answers whose shape is what they assert.
    files: ["tests/**", "scripts/**"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  {
    files: ["**/*.cjs"],
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
]);
